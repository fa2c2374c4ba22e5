package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Minimum samples for communication insights.
const (
	minMails     = 30
	minMailDays  = 7
	minSentMails = 20
	minGuilds    = 3
)

// Working hours for the after-hours share: 08:00–19:00 local, Monday–Friday.
const (
	workFrom = 8
	workTo   = 19
)

// Communication feature names.
const (
	FeatMailReceivedPerDay = "mail.received_per_day"
	FeatMailSentPerDay     = "mail.sent_per_day"
	FeatMailVolume         = "mail.volume"
	FeatMailSample         = "mail.sample"
	FeatMailAfterHours     = "mail.after_hours_share"
	FeatMailSentSample     = "mail.sent_sample"
	FeatDiscordGuilds      = "discord.guilds"
	FeatDiscordCommunity   = "discord.community"
	FeatDiscordOwnedShare  = "discord.owned_share"
	FeatDiscordSample      = "discord.sample"
)

func isSent(m Mail) bool { return slices.Contains(m.Labels, "SENT") }

// afterHours: outside 08:00–19:00 or on a weekend, in local time.
func afterHours(local time.Time) bool {
	wd := local.Weekday()
	return wd == time.Saturday || wd == time.Sunday || local.Hour() < workFrom || local.Hour() >= workTo
}

// senderDomain returns the domain of a From header ("Ann <ann@x.org>" →
// "x.org"); the address itself never leaves this function.
func senderDomain(from string) string {
	at := strings.LastIndexByte(from, '@')
	if at < 0 {
		return ""
	}
	d := from[at+1:]
	if end := strings.IndexAny(d, "> \t"); end >= 0 {
		d = d[:end]
	}
	return strings.ToLower(d)
}

// Communication detects mail volume per day, the hours mail is sent and the
// share sent after hours (Gmail metadata only), and communities from Discord
// servers.
func Communication(mails []Mail, guilds []Guild, loc *time.Location, now time.Time) Detection {
	loc = orUTC(loc)
	d := newDetection()
	if in, ok := mailVolume(mails, loc, now, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	if in, ok := mailAfterHours(mails, loc, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	if in, ok := discordCommunities(guilds, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	return d
}

func mailVolume(mails []Mail, loc *time.Location, now time.Time, f Features) (Insight, bool) {
	var received, sent int
	first := now
	weekdays := [7]float64{}
	domains := map[string]float64{}
	for _, m := range mails {
		if m.At.IsZero() || m.At.After(now) {
			continue
		}
		if m.At.Before(first) {
			first = m.At
		}
		weekdays[m.At.In(loc).Weekday()]++
		if isSent(m) {
			sent++
		} else {
			received++
			if dom := senderDomain(m.From); dom != "" {
				domains[dom]++
			}
		}
	}
	total := received + sent
	days := int(dayOf(now.In(loc)).time().Sub(dayOf(first.In(loc)).time()).Hours()/24) + 1
	if total < minMails || days < minMailDays {
		return Insight{}, false
	}
	recvPerDay, sentPerDay := float64(received)/float64(days), float64(sent)/float64(days)
	f[FeatMailReceivedPerDay] = recvPerDay
	f[FeatMailSentPerDay] = sentPerDay
	f[FeatMailVolume] = saturate(recvPerDay+sentPerDay, 50)
	f[FeatMailSample] = SampleConfidence(total, 300)
	busiest := time.Sunday
	for wd := time.Monday; wd <= time.Saturday; wd++ {
		if weekdays[wd] > weekdays[busiest] {
			busiest = wd
		}
	}
	in := Insight{Key: "mail.volume", Cluster: privacy.Professional, Subcluster: privacy.ProfessionalNetwork,
		Sensitivity: SensitivityIdentifier /* sender domains */, Source: SourcePattern, Confidence: SampleConfidence(total, 300)}
	switch v := recvPerDay + sentPerDay; {
	case v >= 50:
		in.Title = "Heavy email traffic"
	case v >= 10:
		in.Title = "Steady email flow"
	default:
		in.Title = "Light email user"
	}
	in.Body = fmt.Sprintf("Over %d days you received %.1f and sent %.1f emails a day; %s is the busiest day.", days, recvPerDay, sentPerDay, busiest)
	in.Evidence = []Evidence{
		{Label: "Received per day", Value: fmt.Sprintf("%.1f", recvPerDay), Weight: saturate(recvPerDay, 50)},
		{Label: "Sent per day", Value: fmt.Sprintf("%.1f", sentPerDay), Weight: saturate(sentPerDay, 10)},
		{Label: "Busiest weekday", Value: busiest.String(), Weight: weekdays[busiest] / float64(total)},
	}
	for _, dm := range top(domains, 3) {
		in.Evidence = append(in.Evidence, Evidence{Label: "Frequent sender domain", Value: dm.Name, Weight: dm.Count / float64(max(received, 1))})
	}

	return in, true
}

// mailAfterHours looks at sent mail only: received mail's time says when
// others write, not when the user works.
func mailAfterHours(mails []Mail, loc *time.Location, f Features) (Insight, bool) {
	r := newRhythm()
	after := 0
	for _, m := range mails {
		if !isSent(m) || m.At.IsZero() {
			continue
		}
		local := m.At.In(loc)
		r.add(local)
		if afterHours(local) {
			after++
		}
	}
	if r.n < minSentMails {
		return Insight{}, false
	}
	share := float64(after) / float64(r.n)
	f[FeatMailAfterHours] = share
	f[FeatMailSentSample] = SampleConfidence(r.n, 100)
	in := Insight{Key: "mail.after-hours", Cluster: privacy.Professional, Subcluster: privacy.WorkProjects,
		Sensitivity: 70, Source: SourcePattern, Confidence: SampleConfidence(r.n, 100)}
	switch {
	case share >= 0.4:
		in.Title = "Often emails after hours"
	case share >= 0.15:
		in.Title = "Sometimes emails after hours"
	default:
		in.Title = "Keeps email to working hours"
	}
	in.Body = fmt.Sprintf("%s of the %d emails you sent went out before 08:00, after 19:00 or on a weekend.", pct(share), r.n)
	peak := r.peakHour()
	in.Evidence = []Evidence{
		{Label: "Sent after hours", Value: pct(share), Weight: share},
		{Label: "Sent on weekends", Value: pct(r.weekendShare()), Weight: r.weekendShare()},
		{Label: "Busiest sending hour", Value: hourRange(peak), Weight: r.hours[peak] / float64(r.n)},
	}

	return in, true
}

func discordCommunities(guilds []Guild, f Features) (Insight, bool) {
	n := len(guilds)
	f[FeatDiscordGuilds] = float64(n)
	if n < minGuilds {
		return Insight{}, false
	}
	owned := 0
	for _, g := range guilds {
		if g.Owner {
			owned++
		}
	}
	f[FeatDiscordCommunity] = saturate(float64(n), 20)
	f[FeatDiscordOwnedShare] = float64(owned) / float64(n)
	// A guild list is complete (Discord returns up to 200, the maximum a user
	// can join), so the sample is the whole population; confidence still grows
	// with n because a handful of servers says little about a person.
	f[FeatDiscordSample] = SampleConfidence(n, 10)
	in := Insight{Key: "discord.communities", Cluster: privacy.Personal, Subcluster: privacy.SocialConnections,
		Sensitivity: SensitivityIdentifier /* server names */, Source: SourcePattern, Confidence: SampleConfidence(n, 10)}
	switch {
	case owned >= 2:
		in.Title = "Community builder"
	case n >= 20:
		in.Title = "Member of many communities"
	default:
		in.Title = "A few close communities"
	}
	in.Body = fmt.Sprintf("You are in %d Discord servers and own %d of them.", n, owned)
	sorted := slices.Clone(guilds)
	slices.SortStableFunc(sorted, func(a, b Guild) int {
		if a.Owner != b.Owner {
			if a.Owner {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, g := range sorted[:min(len(sorted), 10)] {
		v, w := "member", 0.5
		if g.Owner {
			v, w = "owner", 1
		}
		in.Evidence = append(in.Evidence, Evidence{Label: g.Name, Value: v, Weight: w})
	}
	return in, true
}
