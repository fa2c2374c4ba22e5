package llm

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
)

// BenchmarkRelay parses a 1,000-delta reply (a long answer) from memory.
func BenchmarkRelay(b *testing.B) {
	var stream bytes.Buffer
	stream.WriteString("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":900,\"output_tokens\":1}}}\n\n")
	for i := range 1000 {
		fmt.Fprintf(&stream, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"word%d \"}}\n\n", i)
	}
	stream.WriteString("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":1000}}\n\n")
	stream.WriteString("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")
	raw := stream.Bytes()
	a := &Anthropic{}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		ch := make(chan Chunk, 1100)
		if _, _, err := a.relay(context.Background(), bytes.NewReader(raw), ch); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalAnswer answers from a view of 120 insights and 5 traits.
func BenchmarkLocalAnswer(b *testing.B) {
	var v privacy.View
	clusters := []privacy.Cluster{privacy.Personal, privacy.Professional, privacy.Creative}
	for i := range 120 {
		v.Insights = append(v.Insights, privacy.Insight{
			Key: fmt.Sprintf("k%d", i), Cluster: clusters[i%3], Title: fmt.Sprintf("Pattern %d", i),
			Body:       fmt.Sprintf("You listen to genre%d mostly on weekday evenings, %d%% of your plays.", i, i%100),
			Confidence: float64(i%10) / 10, Evidence: []privacy.Evidence{{Label: "plays", Value: fmt.Sprint(i)}},
		})
	}
	for _, n := range []string{"Openness", "Conscientiousness", "Extraversion", "Agreeableness", "Neuroticism"} {
		v.Traits = append(v.Traits, privacy.Trait{Name: n, Score: 0.6, Confidence: 0.5, Clusters: clusters,
			Evidence: []privacy.TraitEvidence{{Cluster: privacy.Creative, Label: "diversity"}}})
	}
	b.ReportAllocs()
	for b.Loop() {
		if LocalAnswer(v, "What do you listen to on weekday evenings?") == "" {
			b.Fatal("empty")
		}
	}
}
