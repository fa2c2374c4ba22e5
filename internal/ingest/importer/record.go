package importer

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/twinme/twinme/internal/platform"
)

// Platforms whose exports this package reads.
const (
	PlatformSpotify = string(platform.Spotify)
	PlatformYouTube = string(platform.YouTube)
)

// Data types of the records this package produces, under the names this
// package has always given them. They are declared, with the payload type
// stored for each, in internal/platform/payloads.go: the API poller stores a
// Spotify recently-played item as the same data type as an exported play, so
// that the two meet on one row.
const (
	DataPlay          = platform.DataSpotifyPlay
	DataEpisodePlay   = platform.DataSpotifyEpisodePlay
	DataAudiobookPlay = platform.DataSpotifyAudiobookPlay
	DataWatch         = platform.DataYouTubeWatch
	DataSearch        = platform.DataYouTubeSearch
)

// Record is one item of platform data, normalised, ready to be upserted into
// user_platform_data keyed on (user, Platform, DataType, ExternalID). Exports
// and the API poller produce the same shape so that the same item reaching us
// twice, from either path, lands on the same row.
type Record struct {
	Platform string
	DataType platform.DataType
	// ExternalID is the dedup key within (Platform, DataType): stable across
	// re-imports and across sources; see SpotifyPlayID for how plays are keyed.
	ExternalID string
	// OccurredAt is when the item happened, in UTC (for plays: when the
	// stream ended, which is what every Spotify source records).
	OccurredAt time.Time
	// Payload holds the normalised fields of the item as a JSON object: only
	// what analysis needs, never the raw row (no IP addresses, user agents or
	// account names). It names its "source" ("extended_history",
	// "account_data", "takeout", or the poller's "api").
	Payload json.RawMessage
}

// ContentHash returns the hex SHA-256 of the canonical form of r.Payload
// (object keys sorted, no insignificant whitespace, numbers verbatim), so two
// payloads that differ only in key order or spacing hash the same and the
// upsert can tell a changed item from a repeated one. A payload that is not
// valid JSON is hashed as its raw bytes.
func (r Record) ContentHash() string {
	sum := sha256.Sum256(canonicalJSON(r.Payload))
	return hex.EncodeToString(sum[:])
}

func canonicalJSON(raw json.RawMessage) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return raw
	}
	if dec.More() {
		return raw
	}
	// encoding/json writes map keys sorted and json.Number verbatim.
	out, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return out
}
