package importer

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twinme/twinme/internal/apperr"
)

// File is one input file. Open is called once, when the importer reaches the
// file, and the importer closes what it returns.
type File struct {
	// Name is the file's name or its path inside an archive; the format is
	// detected from its last element.
	Name string
	Open func() (io.ReadCloser, error)
	// Size in bytes (uncompressed for archive entries); the total for
	// progress reports. 0 when unknown.
	Size int64
	// InArchive marks entries that came out of an archive: an entry whose
	// name matches no known export is ignored and reported, where a file the
	// user picked on its own would be an error.
	InArchive bool
	// CompressedSize of an archive entry, for Limits.MaxRatio; 0 otherwise.
	CompressedSize int64
}

// FilesFromPaths returns one File per path on the local file system.
func FilesFromPaths(paths ...string) ([]File, error) {
	files := make([]File, 0, len(paths))
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("importer: %w", err)
		}
		if info.IsDir() {
			return nil, apperr.New(apperr.BadUserInput, "%s is a directory, not an export file", p)
		}
		p := p
		files = append(files, File{
			Name: p,
			Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return os.Open(p) },
		})
	}
	return files, nil
}

// FilesFromZip lists the regular files of a zip archive (a Spotify or Takeout
// download). Entries are decompressed lazily, one at a time, as the importer
// reaches them, so the archive is never unpacked in memory or on disk.
func FilesFromZip(r io.ReaderAt, size int64) ([]File, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.BadUserInput, "the archive is not a readable zip file")
	}
	files := make([]File, 0, len(zr.File))
	for _, zf := range zr.File {
		if zf.FileInfo().IsDir() || strings.HasSuffix(zf.Name, "/") {
			continue
		}
		zf := zf
		files = append(files, File{
			Name:           zf.Name,
			Size:           int64(zf.UncompressedSize64),
			Open:           zf.Open,
			InArchive:      true,
			CompressedSize: int64(zf.CompressedSize64),
		})
	}
	return files, nil
}
