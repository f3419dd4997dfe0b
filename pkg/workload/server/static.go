package server

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed static
var staticFiles embed.FS

// staticHandler serves the embedded assets under /static/. They change only
// with a release, so clients may keep them a year; the ETag (a content
// digest) lets them revalidate cheaply after an upgrade.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	etags := map[string]string{}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(sub, p)
			sum := sha256.Sum256(b)
			etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
		return nil
	})
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		etag, ok := etags[name]
		if !ok { // no directory listings, no probing
			http.NotFound(w, r)
			return
		}
		f, err := sub.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		// Embedded files are seekable; ServeContent handles ranges,
		// If-None-Match and the content type from the name.
		http.ServeContent(w, r, name, time.Time{}, f.(io.ReadSeeker))
	}))
}
