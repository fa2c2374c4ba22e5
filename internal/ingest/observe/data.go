package observe

import (
	"bytes"
	"encoding/json"
	"math"
)

// The data kept per event type. Everything not listed is dropped, whatever
// the extension sends: never the typed text or key codes, element
// selectors, page titles, form values or media titles.
//
//	typing          keys, corrections (counts), duration_ms
//	mouse_move      distance_px, speed_px_s, duration_ms
//	mouse_click     button (left|middle|right), clicks (1–10), target (link|button|input|media|other)
//	scroll          depth_pct (0–100), speed_px_s, direction (up|down)
//	focus, blur     duration_ms
//	navigation      transition (link|typed|reload|back_forward|form|other), duration_ms
//	form_submit     fields (count), duration_ms
//	form_abandon    fields, filled (counts), duration_ms
//	media_play,
//	media_pause     kind (audio|video), position_ms, media_duration_ms
//	tab_switch      tabs (count open), duration_ms
//	window_focus,
//	window_blur     duration_ms
//
// A listed field with the wrong type or out of range is dropped on its own;
// the event stays. Counts and milliseconds are whole numbers (fractions are
// rounded), speeds keep one decimal.
var schemas = map[string]schema{
	TypeTyping:      {count("keys"), count("corrections"), durationMS("duration_ms")},
	TypeMouseMove:   {number("distance_px", 0, 1e7, 0), speed("speed_px_s"), durationMS("duration_ms")},
	TypeMouseClick:  {enum("button", "left", "middle", "right"), number("clicks", 1, 10, 0), enum("target", "link", "button", "input", "media", "other")},
	TypeScroll:      {number("depth_pct", 0, 100, 0), speed("speed_px_s"), enum("direction", "up", "down")},
	TypeFocus:       {durationMS("duration_ms")},
	TypeBlur:        {durationMS("duration_ms")},
	TypeNavigation:  {enum("transition", "link", "typed", "reload", "back_forward", "form", "other"), durationMS("duration_ms")},
	TypeFormSubmit:  {count("fields"), durationMS("duration_ms")},
	TypeFormAbandon: {count("fields"), count("filled"), durationMS("duration_ms")},
	TypeMediaPlay:   mediaFields,
	TypeMediaPause:  mediaFields,
	TypeTabSwitch:   {count("tabs"), durationMS("duration_ms")},
	TypeWindowFocus: {durationMS("duration_ms")},
	TypeWindowBlur:  {durationMS("duration_ms")},
}

var mediaFields = schema{enum("kind", "audio", "video"), durationMS("position_ms"), durationMS("media_duration_ms")}

type schema []field

type field struct {
	name     string
	min, max float64
	decimals int      // for numbers
	values   []string // non-nil: an enumeration
}

func count(name string) field      { return number(name, 0, 100_000, 0) }
func durationMS(name string) field { return number(name, 0, 24*3600*1000, 0) }
func speed(name string) field      { return number(name, 0, 1e6, 1) }
func number(name string, lo, hi float64, decimals int) field {
	return field{name: name, min: lo, max: hi, decimals: decimals}
}
func enum(name string, values ...string) field { return field{name: name, values: values} }

var emptyObject = json.RawMessage(`{}`)

// reduce keeps the schema's fields of raw. ok is false when raw is present
// but not a JSON object.
func (s schema) reduce(raw json.RawMessage) (json.RawMessage, bool) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return emptyObject, true
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &in); err != nil || in == nil {
		return nil, false
	}
	out := make(map[string]any, len(s))
	for _, f := range s {
		v, present := in[f.name]
		if !present {
			continue
		}
		if kept, ok := f.keep(v); ok {
			out[f.name] = kept
		}
	}
	if len(out) == 0 {
		return emptyObject, true
	}
	b, err := json.Marshal(out) // map keys come out sorted
	if err != nil {
		return nil, false
	}
	return b, true
}

func (f field) keep(v json.RawMessage) (any, bool) {
	if f.values != nil {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, false
		}
		for _, allowed := range f.values {
			if s == allowed {
				return s, true
			}
		}
		return nil, false
	}
	var n float64
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) || json.Unmarshal(v, &n) != nil || math.IsNaN(n) || math.IsInf(n, 0) || n < f.min || n > f.max {
		return nil, false
	}
	if f.decimals == 0 {
		return int64(math.Round(n)), true
	}
	p := math.Pow10(f.decimals)
	return math.Round(n*p) / p, true
}
