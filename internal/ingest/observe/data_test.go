package observe

import (
	"encoding/json"
	"testing"
)

func TestDataWhitelist(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		in   string
		want string
	}{
		{"typing keeps counts, drops text", TypeTyping,
			`{"keys":120,"corrections":7,"duration_ms":30500,"text":"dear diary","value":"hunter2","keyCodes":[72,73]}`,
			`{"corrections":7,"duration_ms":30500,"keys":120}`},
		{"typing rounds fractions", TypeTyping, `{"keys":3.6}`, `{"keys":4}`},
		{"negative count dropped", TypeTyping, `{"keys":-1,"corrections":2}`, `{"corrections":2}`},
		{"string where a number belongs dropped", TypeTyping, `{"keys":"120"}`, `{}`},
		{"null field dropped", TypeTyping, `{"keys":null}`, `{}`},
		{"huge duration dropped", TypeFocus, `{"duration_ms":1e12}`, `{}`},
		{"scroll", TypeScroll, `{"depth_pct":87.4,"speed_px_s":1234.56,"direction":"down","selector":"#main > div.article"}`,
			`{"depth_pct":87,"direction":"down","speed_px_s":1234.6}`},
		{"scroll depth over 100 dropped", TypeScroll, `{"depth_pct":140}`, `{}`},
		{"unknown enum value dropped", TypeScroll, `{"direction":"sideways"}`, `{}`},
		{"mouse click", TypeMouseClick, `{"button":"left","clicks":2,"target":"link","href":"https://x.example/?t=1","x":10,"y":20}`,
			`{"button":"left","clicks":2,"target":"link"}`},
		{"mouse move", TypeMouseMove, `{"distance_px":5000,"speed_px_s":800,"duration_ms":6000,"path":[[1,2]]}`,
			`{"distance_px":5000,"duration_ms":6000,"speed_px_s":800}`},
		{"media", TypeMediaPlay, `{"kind":"video","position_ms":61000,"media_duration_ms":300000,"title":"Private video","src":"blob:x"}`,
			`{"kind":"video","media_duration_ms":300000,"position_ms":61000}`},
		{"media pause", TypeMediaPause, `{"kind":"audio","position_ms":1}`, `{"kind":"audio","position_ms":1}`},
		{"navigation", TypeNavigation, `{"transition":"typed","url":"https://secret.example/?q=1","title":"Bank"}`, `{"transition":"typed"}`},
		{"form abandon", TypeFormAbandon, `{"fields":5,"filled":2,"duration_ms":40000,"values":{"email":"a@b.c"}}`,
			`{"duration_ms":40000,"fields":5,"filled":2}`},
		{"form submit", TypeFormSubmit, `{"fields":3,"duration_ms":1000}`, `{"duration_ms":1000,"fields":3}`},
		{"tab switch", TypeTabSwitch, `{"tabs":23,"duration_ms":4000,"titles":["Bank"]}`, `{"duration_ms":4000,"tabs":23}`},
		{"window blur", TypeWindowBlur, `{"duration_ms":12}`, `{"duration_ms":12}`},
		{"empty object", TypeFocus, `{}`, `{}`},
		{"absent data", TypeFocus, ``, `{}`},
		{"null data", TypeFocus, `null`, `{}`},
		{"nothing kept", TypeBlur, `{"foo":"bar"}`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := schemas[tt.typ].reduce(json.RawMessage(tt.in))
			if !ok {
				t.Fatalf("reduce(%s) rejected the data", tt.in)
			}
			if string(got) != tt.want {
				t.Errorf("reduce(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestDataNotAnObjectIsRejected(t *testing.T) {
	for _, in := range []string{`[]`, `"text"`, `42`, `true`, `{`, `{"a":1}{"b":2}`} {
		if _, ok := schemas[TypeTyping].reduce(json.RawMessage(in)); ok {
			t.Errorf("reduce(%s) accepted", in)
		}
	}
}
