package ingest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

const testdata = "importer/testdata"

func service(e *env) *ingest.Service {
	return ingest.New(e.db, ingest.Options{Analysis: e.analysis, Clock: e.clock, Logger: slog.New(slog.DiscardHandler)})
}

func newUser(t *testing.T, db *store.DB, email string) *store.User {
	t.Helper()
	u := &store.User{Email: email, CreatedAt: start, UpdatedAt: start}
	storetest.Must(t, db.CreateUser(context.Background(), u))
	return u
}

func count(t *testing.T, db *store.DB, userID, platformName string) map[string]int {
	t.Helper()
	n, err := db.CountPlatformData(context.Background(), userID, platformName)
	storetest.Must(t, err)
	return n
}

func TestImportEachFormatAndReimportAddsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := service(e)
		u := newUser(t, db, "ada@example.com")
		for _, tc := range []struct {
			platform string
			files    []string
		}{
			{"spotify", []string{
				"Spotify Extended Streaming History/Streaming_History_Audio_2021-2022_0.json",
				"Spotify Extended Streaming History/endsong_0.json",
				"Spotify Account Data/StreamingHistory_music_0.json",
				"Spotify Account Data/StreamingHistory_podcast_0.json",
			}},
			{"youtube", []string{
				"Takeout/YouTube and YouTube Music/history/watch-history.json",
				"Takeout/YouTube and YouTube Music/history/search-history.json",
			}},
		} {
			var paths []string
			for _, f := range tc.files {
				paths = append(paths, filepath.Join(testdata, f))
			}
			files, err := importer.FilesFromPaths(paths...)
			storetest.Must(t, err)
			first, err := s.ImportFiles(ctx, u.ID, platform.ID(tc.platform), files, nil)
			storetest.Must(t, err)
			if first.Imported == 0 || len(first.Files) != len(tc.files) {
				t.Fatalf("%s: first import %+v", tc.platform, first)
			}
			for _, f := range first.Files {
				if f.Error != "" || f.Imported+f.Duplicate+f.Rejected+f.Skipped == 0 {
					t.Fatalf("%s: file %+v", tc.platform, f)
				}
			}
			total := 0
			for _, n := range count(t, db, u.ID, tc.platform) {
				total += n
			}
			if total == 0 || total > first.Imported {
				t.Fatalf("%s: %d rows for %d imported", tc.platform, total, first.Imported)
			}
			again, err := s.ImportFiles(ctx, u.ID, platform.ID(tc.platform), files, nil)
			storetest.Must(t, err)
			if again.Imported != 0 || again.Duplicate != first.Imported+first.Duplicate {
				t.Fatalf("%s: re-import = imported %d duplicate %d, want 0 and %d", tc.platform, again.Imported, again.Duplicate, first.Imported+first.Duplicate)
			}
			after := 0
			for _, n := range count(t, db, u.ID, tc.platform) {
				after += n
			}
			if after != total {
				t.Fatalf("%s: re-import changed the row count %d -> %d", tc.platform, total, after)
			}
		}
	})
}

func TestImportZipAndBadFilesAreAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := service(e)
		u := newUser(t, db, "ada@example.com")
		good, err := os.ReadFile(filepath.Join(testdata, "Spotify Extended Streaming History/Streaming_History_Audio_2021-2022_0.json"))
		storetest.Must(t, err)
		// A truncated copy: its first records parse, then the file ends.
		truncated := good[:len(good)*2/3]
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for name, body := range map[string][]byte{
			"my_spotify_data/Spotify Extended Streaming History/Streaming_History_Audio_2021-2022_0.json": good,
			"my_spotify_data/Spotify Extended Streaming History/Streaming_History_Audio_2023_1.json":      truncated,
			"my_spotify_data/Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf": []byte("%PDF"),
		} {
			w, err := zw.Create(name)
			storetest.Must(t, err)
			_, _ = w.Write(body)
		}
		storetest.Must(t, zw.Close())
		files, err := importer.FilesFromZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		storetest.Must(t, err)

		res, err := s.ImportFiles(ctx, u.ID, "spotify", files, nil)
		if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(err.Error(), "Streaming_History_Audio_2023_1.json") {
			t.Fatalf("error %v, want BAD_USER_INPUT naming the truncated file", err)
		}
		var okFile, badFile *ingest.ImportFileResult
		for i := range res.Files {
			if strings.HasSuffix(res.Files[i].Name, "2023_1.json") {
				badFile = &res.Files[i]
			} else {
				okFile = &res.Files[i]
			}
		}
		if okFile == nil || badFile == nil || len(res.Ignored) != 1 {
			t.Fatalf("result %+v", res)
		}
		if okFile.Error != "" || okFile.Imported == 0 {
			t.Fatalf("good file %+v", okFile)
		}
		if badFile.Error == "" || badFile.Imported != 0 || badFile.Duplicate != 0 {
			t.Fatalf("truncated file %+v: must say nothing of it was stored", badFile)
		}
		// The truncated file's records duplicate the good file's: had they
		// been stored, the count would still match, so check its own
		// records did not land by importing the truncated file alone into
		// a fresh user.
		v := newUser(t, db, "bob@example.com")
		only, err := importer.FilesFromZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		storetest.Must(t, err)
		var trunc []importer.File
		for _, f := range only {
			if strings.HasSuffix(f.Name, "2023_1.json") {
				trunc = append(trunc, f)
			}
		}
		r2, err := s.ImportFiles(ctx, v.ID, "spotify", trunc, nil)
		if err == nil || r2.Files[0].Error == "" {
			t.Fatalf("truncated file alone: %v %+v", err, r2)
		}
		if n := count(t, db, v.ID, "spotify"); len(n) != 0 {
			t.Fatalf("half of a truncated file was stored: %v", n)
		}
		// Wrong platform's file picked on its own: named in the error.
		wrong, err := importer.FilesFromPaths(filepath.Join(testdata, "Takeout/YouTube and YouTube Music/history/watch-history.json"))
		storetest.Must(t, err)
		_, err = s.ImportFiles(ctx, u.ID, "spotify", wrong, nil)
		if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(apperr.MessageOf(err), "watch-history.json") {
			t.Fatalf("wrong file: %v", err)
		}
	})
}

// extendedHistory writes plays as a Streaming_History_Audio file: ts is
// the end of the stream to the second, the album artist and track name as
// Spotify's export names them.
func extendedHistory(t testing.TB, dir string, plays []platformtest.SpotifyPlay) string {
	t.Helper()
	var rows []map[string]any
	for _, p := range plays {
		rows = append(rows, map[string]any{
			"ts": p.PlayedAt.UTC().Truncate(time.Second).Format(time.RFC3339), "platform": "ios", "ms_played": p.DurationMS,
			"conn_country": "DE", "ip_addr": "203.0.113.7", "master_metadata_track_name": p.Track,
			"master_metadata_album_artist_name": p.Artists[0], "master_metadata_album_album_name": p.Album,
			"spotify_track_uri": "spotify:track:" + p.TrackID, "episode_name": nil, "episode_show_name": nil,
			"spotify_episode_uri": nil, "reason_start": "trackdone", "reason_end": "trackdone",
			"shuffle": false, "skipped": false, "offline": false, "offline_timestamp": 0, "incognito_mode": false,
		})
	}
	b, err := json.Marshal(rows)
	storetest.Must(t, err)
	path := filepath.Join(dir, "Streaming_History_Audio_2026_0.json")
	storetest.Must(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestAPIAndExportOfTheSamePlayAreOneItem(t *testing.T) {
	for _, order := range []string{"api first", "export first"} {
		t.Run(order, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				e := newEnv(t, db)
				api := platformtest.ServeSpotifyAPI(e.fake, 0)
				var plays []platformtest.SpotifyPlay
				for i := range 8 {
					plays = append(plays, platformtest.SpotifySongPlay(i, start.Add(-time.Duration(8-i)*5*time.Minute+1234*time.Millisecond)))
				}
				api.AddPlays(plays...)
				c := e.connectUser("ada@example.com")
				rp, ok := e.fake.Provider().Stream("recently_played")
				if !ok {
					t.Fatal("no recently_played stream")
				}
				eng := e.engine(rp)
				s := service(e)
				files, err := importer.FilesFromPaths(extendedHistory(t, t.TempDir(), plays))
				storetest.Must(t, err)

				poll := func() ingest.ConnectionResult {
					r, err := eng.SyncNow(ctx, c.UserID, "spotify")
					storetest.Must(t, err)
					return r
				}
				if order == "api first" {
					if r := poll(); r.Inserted != 8 {
						t.Fatalf("poll %+v", r)
					}
					res, err := s.ImportFiles(ctx, c.UserID, "spotify", files, nil)
					storetest.Must(t, err)
					// The export is richer: it improves each row, adds none.
					if res.Imported != 8 || res.Duplicate != 0 {
						t.Fatalf("import after poll %+v", res)
					}
				} else {
					res, err := s.ImportFiles(ctx, c.UserID, "spotify", files, nil)
					storetest.Must(t, err)
					if res.Imported != 8 {
						t.Fatalf("import %+v", res)
					}
					if r := poll(); r.Inserted != 0 || r.Updated != 0 || r.Unchanged != 8 {
						t.Fatalf("poll after import %+v", r)
					}
				}
				rows, err := db.ListPlatformData(ctx, c.UserID, "spotify", "play", nil, 100)
				storetest.Must(t, err)
				if len(rows) != 8 {
					t.Fatalf("%d play rows, want 8", len(rows))
				}
				for _, r := range rows {
					if r.Source != store.SourceExtendedHistory {
						t.Fatalf("row kept source %q, want the richer export", r.Source)
					}
				}
			})
		})
	}
}

func TestImportTriggersAnalysis(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e := newEnv(t, db)
		u := newUser(t, db, "ada@example.com")
		files, err := importer.FilesFromPaths(filepath.Join(testdata, "Spotify Account Data/StreamingHistory_music_0.json"))
		storetest.Must(t, err)
		var last importer.Progress
		res, err := service(e).ImportFiles(ctx, u.ID, "spotify", files, func(p importer.Progress) { last = p })
		storetest.Must(t, err)
		if got := e.analysis.got(); res.Imported == 0 || !slices.Equal(got, []string{u.ID + " spotify"}) {
			t.Fatalf("analysis hook calls %q for %+v", got, res)
		}
		if last.BytesRead != last.BytesTotal || last.Records == 0 {
			t.Fatalf("progress %+v", last)
		}
	})
}
