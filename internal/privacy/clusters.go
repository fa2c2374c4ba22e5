// Package privacy holds the life clusters, the privacy sliders a user sets per
// cluster and per audience, and Reveal, the one filter every view of a soul
// signature for someone other than its owner passes through.
package privacy

import (
	"strings"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
)

// Cluster is a life cluster slug ("personal", "professional", "creative").
type Cluster = domain.Cluster

const (
	Personal     = domain.ClusterPersonal
	Professional = domain.ClusterProfessional
	Creative     = domain.ClusterCreative
)

// Subcluster is a slug such as "hobbies-interests"; each belongs to exactly
// one cluster.
type Subcluster string

// Personal subclusters.
const (
	HobbiesInterests     Subcluster = "hobbies-interests"
	SportsFitness        Subcluster = "sports-fitness"
	SpiritualityReligion Subcluster = "spirituality-religion"
	EntertainmentChoices Subcluster = "entertainment-choices"
	SocialConnections    Subcluster = "social-connections"
	HealthWellness       Subcluster = "health-wellness"
	TravelExperiences    Subcluster = "travel-experiences"
)

// Professional subclusters.
const (
	StudiesEducation        Subcluster = "studies-education"
	CareerJobs              Subcluster = "career-jobs"
	SkillsExpertise         Subcluster = "skills-expertise"
	AchievementsRecognition Subcluster = "achievements-recognition"
	WorkProjects            Subcluster = "work-projects"
	ProfessionalNetwork     Subcluster = "professional-network"
)

// Creative subclusters.
const (
	ArtisticExpression Subcluster = "artistic-expression"
	ContentCreation    Subcluster = "content-creation"
	MusicalIdentity    Subcluster = "musical-identity"
	WritingBlogging    Subcluster = "writing-blogging"
	PhotographyVisual  Subcluster = "photography-visual"
)

// Audience is who looks at a revealed signature (domain.Audience).
type Audience = domain.Audience

const (
	AudienceEveryone     = domain.AudienceEveryone
	AudienceProfessional = domain.AudienceProfessional
	AudienceFriends      = domain.AudienceFriends
	AudienceIntimate     = domain.AudienceIntimate
	AudienceDating       = domain.AudienceDating
	// AudienceAssistant is the language model (see domain.AudienceAssistant).
	AudienceAssistant = domain.AudienceAssistant
)

// ClusterInfo describes one life cluster for listings (the lifeClusters query).
type ClusterInfo struct {
	Cluster     Cluster
	Name        string
	Subclusters []SubclusterInfo
}

// SubclusterInfo describes one subcluster.
type SubclusterInfo struct {
	Subcluster Subcluster
	Name       string
}

// The order here is the order clients list them in.
var clusterTable = []ClusterInfo{
	{Personal, "Personal", []SubclusterInfo{
		{HobbiesInterests, "Hobbies & interests"},
		{SportsFitness, "Sports & fitness"},
		{SpiritualityReligion, "Spirituality & religion"},
		{EntertainmentChoices, "Entertainment choices"},
		{SocialConnections, "Social connections"},
		{HealthWellness, "Health & wellness"},
		{TravelExperiences, "Travel experiences"},
	}},
	{Professional, "Professional", []SubclusterInfo{
		{StudiesEducation, "Studies & education"},
		{CareerJobs, "Career & jobs"},
		{SkillsExpertise, "Skills & expertise"},
		{AchievementsRecognition, "Achievements & recognition"},
		{WorkProjects, "Work projects"},
		{ProfessionalNetwork, "Professional network"},
	}},
	{Creative, "Creative", []SubclusterInfo{
		{ArtisticExpression, "Artistic expression"},
		{ContentCreation, "Content creation"},
		{MusicalIdentity, "Musical identity"},
		{WritingBlogging, "Writing & blogging"},
		{PhotographyVisual, "Photography & visual"},
	}},
}

// Clusters lists every life cluster with its subclusters. The result is a
// fresh copy; callers may modify it.
func Clusters() []ClusterInfo {
	out := make([]ClusterInfo, len(clusterTable))
	for i, c := range clusterTable {
		out[i] = ClusterInfo{Cluster: c.Cluster, Name: c.Name, Subclusters: append([]SubclusterInfo(nil), c.Subclusters...)}
	}
	return out
}

// Audiences lists every audience.
func Audiences() []Audience { return domain.Audiences() }

var audienceList = domain.Audiences()

// Cluster returns the cluster s belongs to and whether s is known.
func (s Subcluster) Cluster() (Cluster, bool) {
	for _, ci := range clusterTable {
		for _, sc := range ci.Subclusters {
			if sc.Subcluster == s {
				return ci.Cluster, true
			}
		}
	}
	return "", false
}

// normalize turns "PERSONAL", "Hobbies_Interests" or " hobbies-interests "
// into the slug spelling, so GraphQL enum values parse like slugs.
func normalize(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// ParseCluster parses a cluster slug or GraphQL enum value (PERSONAL).
// An unknown value is a BAD_USER_INPUT error listing the valid ones.
func ParseCluster(s string) (Cluster, error) {
	c := Cluster(normalize(s))
	if c.Valid() {
		return c, nil
	}
	names := make([]string, len(clusterTable))
	for i, ci := range clusterTable {
		names[i] = string(ci.Cluster)
	}
	return "", apperr.Invalid("cluster", "unknown life cluster %q; valid: %s", s, strings.Join(names, ", "))
}

// ParseSubcluster parses a subcluster slug or GraphQL enum value
// (HOBBIES_INTERESTS).
func ParseSubcluster(s string) (Subcluster, error) {
	sc := Subcluster(normalize(s))
	if _, ok := sc.Cluster(); ok {
		return sc, nil
	}
	var names []string
	for _, ci := range clusterTable {
		for _, x := range ci.Subclusters {
			names = append(names, string(x.Subcluster))
		}
	}
	return "", apperr.Invalid("subcluster", "unknown subcluster %q; valid: %s", s, strings.Join(names, ", "))
}

// ParseAudience parses an audience name or GraphQL enum value (INTIMATE).
func ParseAudience(s string) (Audience, error) {
	a := Audience(normalize(s))
	if a.Valid() {
		return a, nil
	}
	names := make([]string, len(Audiences()))
	for i, x := range Audiences() {
		names[i] = string(x)
	}
	return "", apperr.Invalid("audience", "unknown audience %q; valid: %s", s, strings.Join(names, ", "))
}
