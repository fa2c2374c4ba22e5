package analysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Minimum samples for video insights.
const (
	minCategorised     = 20 // liked videos with a category
	minCategoryVideos  = 5  // a category becomes an interest
	minCategoryShare   = 0.10
	maxCategoryInsight = 5
	minChannelVideos   = 20
	minWatches         = 50
	minWatchDays       = 7
)

// Video feature names.
const (
	FeatVideoCount             = "video.count"
	FeatVideoCategorySample    = "video.category_sample"
	FeatVideoCategoryDiversity = "video.category_diversity"
	FeatVideoWatches           = "video.watches"
	FeatVideoWatchSample       = "video.watch_sample"
	FeatVideoNightShare        = "video.night_share"
	FeatVideoEveningShare      = "video.evening_share"
)

// youtubeCategory is one YouTube video category with where it lands in the
// soul signature.
type youtubeCategory struct {
	Name        string
	Subcluster  privacy.Subcluster
	Sensitivity int
}

// youtubeCategories maps videoCategory ids to names. Source: the Data API's
// videoCategories.list?part=snippet&regionCode=US answer (ids 1–44, the
// titles as snippet.title gives them; 30–44 are not assignable to uploads but
// still appear on videos). News & Politics and Nonprofits & Activism say
// something about political views, so they start at a higher sensitivity.
var youtubeCategories = map[string]youtubeCategory{
	"1":  {"Film & Animation", privacy.EntertainmentChoices, 15},
	"2":  {"Autos & Vehicles", privacy.HobbiesInterests, 15},
	"10": {"Music", privacy.MusicalIdentity, 10},
	"15": {"Pets & Animals", privacy.HobbiesInterests, 15},
	"17": {"Sports", privacy.SportsFitness, 15},
	"18": {"Short Movies", privacy.EntertainmentChoices, 15},
	"19": {"Travel & Events", privacy.TravelExperiences, 20},
	"20": {"Gaming", privacy.HobbiesInterests, 15},
	"21": {"Videoblogging", privacy.EntertainmentChoices, 15},
	"22": {"People & Blogs", privacy.EntertainmentChoices, 15},
	"23": {"Comedy", privacy.EntertainmentChoices, 15},
	"24": {"Entertainment", privacy.EntertainmentChoices, 15},
	"25": {"News & Politics", privacy.HobbiesInterests, 60},
	"26": {"Howto & Style", privacy.HobbiesInterests, 15},
	"27": {"Education", privacy.StudiesEducation, 15},
	"28": {"Science & Technology", privacy.StudiesEducation, 15},
	"29": {"Nonprofits & Activism", privacy.HobbiesInterests, 60},
	"30": {"Movies", privacy.EntertainmentChoices, 15},
	"31": {"Anime/Animation", privacy.EntertainmentChoices, 15},
	"32": {"Action/Adventure", privacy.EntertainmentChoices, 15},
	"33": {"Classics", privacy.EntertainmentChoices, 15},
	"34": {"Comedy", privacy.EntertainmentChoices, 15},
	"35": {"Documentary", privacy.EntertainmentChoices, 15},
	"36": {"Drama", privacy.EntertainmentChoices, 15},
	"37": {"Family", privacy.EntertainmentChoices, 15},
	"38": {"Foreign", privacy.EntertainmentChoices, 15},
	"39": {"Horror", privacy.EntertainmentChoices, 15},
	"40": {"Sci-Fi/Fantasy", privacy.EntertainmentChoices, 15},
	"41": {"Thriller", privacy.EntertainmentChoices, 15},
	"42": {"Shorts", privacy.EntertainmentChoices, 15},
	"43": {"Shows", privacy.EntertainmentChoices, 15},
	"44": {"Trailers", privacy.EntertainmentChoices, 15},
}

// YouTubeCategoryName returns the category's English title, or "" for an id
// YouTube does not list.
func YouTubeCategoryName(id string) string { return youtubeCategories[id].Name }

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// Videos detects interests from liked videos' categories and from channels,
// and the watch rhythm from Takeout watch history.
func Videos(videos []Video, loc *time.Location) Detection {
	loc = orUTC(loc)
	d := newDetection()
	d.Features[FeatVideoCount] = float64(len(videos))
	cats := map[string]float64{}
	channels := map[string]float64{}
	watch := newRhythm()
	categorised, withChannel := 0, 0
	for _, v := range videos {
		if _, ok := youtubeCategories[v.CategoryID]; ok {
			cats[v.CategoryID]++
			categorised++
		}
		if v.Channel != "" {
			channels[v.Channel]++
			withChannel++
		}
		if v.Source == VideoWatch && !v.At.IsZero() {
			watch.add(v.At.In(loc))
		}
	}

	if categorised >= minCategorised {
		d.Features[FeatVideoCategorySample] = SampleConfidence(categorised, 100)
		d.Features[FeatVideoCategoryDiversity] = normalizedEntropy(cats)
		for _, c := range top(cats, maxCategoryInsight) {
			share := c.Count / float64(categorised)
			if c.Count < minCategoryVideos || share < minCategoryShare {
				break
			}
			cat := youtubeCategories[c.Name]
			cl, _ := cat.Subcluster.Cluster()
			d.Insights = append(d.Insights, Insight{
				Key: "video.interest." + slug(cat.Name), Cluster: cl, Subcluster: cat.Subcluster,
				Title: "Into " + cat.Name,
				Body:  fmt.Sprintf("%s of the videos you liked are %s (%.0f of %d).", pct(share), cat.Name, c.Count, categorised),
				Evidence: []Evidence{
					{Label: "Liked videos in " + cat.Name, Value: fmt.Sprintf("%.0f (%s)", c.Count, pct(share)), Weight: share},
				},
				Confidence:  SampleConfidence(int(c.Count), 20),
				Sensitivity: cat.Sensitivity, Source: SourcePattern,
			})
		}
	}

	if withChannel >= minChannelVideos {
		in := Insight{Key: "video.channels", Cluster: privacy.Personal, Subcluster: privacy.EntertainmentChoices,
			Title: "Channels you come back to", Sensitivity: SensitivityIdentifier /* channel names */, Source: SourcePattern,
			Confidence: SampleConfidence(withChannel, 100)}
		best := top(channels, 5)
		in.Body = fmt.Sprintf("%s is the channel you watch or like most (%.0f videos), out of %d channels.", best[0].Name, best[0].Count, len(channels))
		for _, c := range best {
			in.Evidence = append(in.Evidence, Evidence{Label: c.Name, Value: fmt.Sprintf("%.0f videos", c.Count), Weight: c.Count / float64(withChannel)})
		}
		d.Insights = append(d.Insights, in)
	}

	d.Features[FeatVideoWatches] = float64(watch.n)
	if watch.n >= minWatches && len(watch.days) >= minWatchDays {
		night, evening := watch.share(nightFrom, nightTo), watch.share(eveningFrom, eveningTo)
		d.Features[FeatVideoWatchSample] = SampleConfidence(watch.n, 200)
		d.Features[FeatVideoNightShare] = night
		d.Features[FeatVideoEveningShare] = evening
		in := Insight{Key: "video.rhythm", Cluster: privacy.Personal, Subcluster: privacy.EntertainmentChoices,
			Sensitivity: 35, Source: SourcePattern, Confidence: SampleConfidence(watch.n, 200)}
		peak := watch.peakHour()
		switch {
		case night >= 0.3:
			in.Title = "Late-night watcher"
		case evening >= 0.4:
			in.Title = "Evening watcher"
		default:
			in.Title = "Watches through the day"
		}
		in.Body = fmt.Sprintf("Most of your YouTube watching happens around %s; %s after 22:00.", hourRange(peak), pct(night))
		in.Evidence = []Evidence{
			{Label: "Evening (17–22)", Value: pct(evening), Weight: evening},
			{Label: "Night (22–05)", Value: pct(night), Weight: night},
			{Label: "Busiest hour", Value: hourRange(peak), Weight: watch.hours[peak] / float64(watch.n)},
			{Label: "Weekend share", Value: pct(watch.weekendShare()), Weight: watch.weekendShare()},
		}
		sortEvidence(in.Evidence)
		d.Insights = append(d.Insights, in)
	}
	return d
}
