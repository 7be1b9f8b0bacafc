package syncer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// asset is a release asset served by fakeGitHub: size bytes of a repeating pattern, produced
// on the fly so a 200 MB asset costs the test no memory.
type asset struct {
	id        int64
	name      string
	size      int64
	seed      byte
	digest    string // "" to publish none
	truncated bool   // the download stops half-way (the connection drops)
	listed    int64  // size in the release listing, when it differs from what is served
}

func (a asset) sum() string {
	h := sha256.New()
	_, _ = io.Copy(h, a.reader())
	return hex.EncodeToString(h.Sum(nil))
}

func (a asset) reader() io.Reader { return io.LimitReader(&pattern{seed: a.seed}, a.size) }

// pattern is an endless, allocation-free byte stream that differs per seed.
type pattern struct {
	seed byte
	off  int64
}

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.off*7+p.off>>9) ^ p.seed
		p.off++
	}
	return len(b), nil
}

type release struct {
	tag    string
	body   string
	assets []asset
}

// fakeGitHub speaks the parts of GitHub's REST API the syncer uses, in GitHub's shapes:
// releases/latest, releases/tags/{tag}, and releases/assets/{id}, which with
// Accept: application/octet-stream redirects to a storage URL (without it, JSON metadata).
type fakeGitHub struct {
	srv       *httptest.Server
	mu        sync.Mutex
	latest    string
	releases  map[string]release
	token     string // required bearer token, if set
	downloads atomic.Int64
	apiCalls  atomic.Int64
}

func newFakeGitHub(t testing.TB) *fakeGitHub {
	g := &fakeGitHub{releases: map[string]release{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) publish(r release, latest bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releases[r.tag] = r
	if latest {
		g.latest = r.tag
	}
}

// client is the syncer's GitHub client aimed at the fake, with a GHES-style API path.
func (g *fakeGitHub) client(tok TokenSource) *GitHub {
	return &GitHub{APIURL: g.srv.URL + "/api/v3", Repo: "actions/runner", Token: tok, HTTP: NewHTTPClient()}
}

func (g *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/storage/") {
		g.serveStorage(w, r)
		return
	}
	g.apiCalls.Add(1)
	if g.token != "" && r.Header.Get("Authorization") != "Bearer "+g.token {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/api/v3/repos/actions/runner/releases/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case path == "latest":
		g.writeRelease(w, r, g.latest)
	case strings.HasPrefix(path, "tags/"):
		g.writeRelease(w, r, strings.TrimPrefix(path, "tags/"))
	case strings.HasPrefix(path, "assets/"):
		id, _ := strconv.ParseInt(strings.TrimPrefix(path, "assets/"), 10, 64)
		a, ok := g.findAsset(id)
		if !ok {
			notFound(w)
			return
		}
		if r.Header.Get("Accept") != "application/octet-stream" {
			_ = json.NewEncoder(w).Encode(g.assetJSON(a))
			return
		}
		http.Redirect(w, r, g.srv.URL+"/storage/"+strconv.FormatInt(id, 10), http.StatusFound)
	default:
		notFound(w)
	}
}

func notFound(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"message":"Not Found","documentation_url":"https://docs.github.com/rest/releases/releases","status":"404"}`))
}

func (g *fakeGitHub) serveStorage(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		http.Error(w, "storage URLs are pre-signed: an Authorization header is refused", http.StatusBadRequest)
		return
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/storage/"), 10, 64)
	g.mu.Lock()
	a, ok := g.findAsset(id)
	g.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	g.downloads.Add(1)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(a.size, 10))
	if a.truncated {
		_, _ = io.Copy(w, io.LimitReader(a.reader(), a.size/2))
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	_, _ = io.Copy(w, a.reader())
}

func (g *fakeGitHub) findAsset(id int64) (asset, bool) {
	for _, rel := range g.releases {
		for _, a := range rel.assets {
			if a.id == id {
				return a, true
			}
		}
	}
	return asset{}, false
}

func (g *fakeGitHub) assetJSON(a asset) map[string]any {
	m := map[string]any{
		"id": a.id, "name": a.name, "size": cmp.Or(a.listed, a.size), "state": "uploaded", "content_type": "application/octet-stream",
		"url":                  g.srv.URL + "/api/v3/repos/actions/runner/releases/assets/" + strconv.FormatInt(a.id, 10),
		"browser_download_url": g.srv.URL + "/actions/runner/releases/download/" + a.name,
	}
	if a.digest != "" {
		m["digest"] = a.digest
	}
	return m
}

func (g *fakeGitHub) writeRelease(w http.ResponseWriter, r *http.Request, tag string) {
	rel, ok := g.releases[tag]
	if !ok {
		notFound(w)
		return
	}
	assets := []map[string]any{}
	for _, a := range rel.assets {
		assets = append(assets, g.assetJSON(a))
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": 1, "tag_name": rel.tag, "name": rel.tag, "draft": false, "prerelease": false,
		"body": rel.body, "assets": assets,
		"html_url": g.srv.URL + "/actions/runner/releases/tag/" + rel.tag,
	})
}

// runnerRelease is a release shaped like actions/runner's: one archive per target, hashes in
// the notes between BEGIN/END SHA markers (and as asset digests when withDigest).
func runnerRelease(version string, size int64, seed byte, withDigest bool, targets ...string) release {
	rel := release{tag: "v" + version}
	var notes strings.Builder
	notes.WriteString("## What's Changed\n* fixes\n\n## SHA-256 Checksums\n")
	for i, t := range targets {
		a := asset{id: int64(seed)*100 + int64(i), size: size, seed: seed + byte(i)}
		a.name = strings.TrimSuffix(Key(t), ext(t)) + "-" + version + ext(t)
		sum := a.sum()
		if withDigest {
			a.digest = "sha256:" + sum
		}
		fmt.Fprintf(&notes, "- %s <!-- BEGIN SHA %s -->%s<!-- END SHA %s -->\n", a.name, t, sum, t)
		rel.assets = append(rel.assets, a)
	}
	rel.body = notes.String()
	return rel
}

// memS3 is a small stateful S3: objects and multipart uploads in memory, or only counted and
// hashed when discard is set (for streams larger than the test should hold).
type memS3 struct {
	mu       sync.Mutex
	discard  bool
	objects  map[string]memObject
	uploads  map[string]*memUpload
	next     int
	failPart int32 // UploadPart of this part number fails
	aborted  int
}

type memObject struct {
	data   []byte
	size   int64
	sha256 string
	meta   map[string]string
}

type memUpload struct {
	key   string
	meta  map[string]string
	parts map[int32]memPart
}

type memPart struct {
	data []byte
	size int64
	hash hash.Hash // of this part, when discarding
}

var _ S3API = (*memS3)(nil)

func newMemS3() *memS3 {
	return &memS3{objects: map[string]memObject{}, uploads: map[string]*memUpload{}}
}

type apiErr struct{ code string }

func (e apiErr) Error() string                 { return e.code }
func (e apiErr) ErrorCode() string             { return e.code }
func (e apiErr) ErrorMessage() string          { return e.code }
func (e apiErr) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }

func (m *memS3) HeadObject(_ context.Context, in *s3.HeadObjectInput, _ ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[*in.Key]
	if !ok {
		return nil, apiErr{"NotFound"}
	}
	return &s3.HeadObjectOutput{Metadata: o.meta, ContentLength: aws.Int64(o.size)}, nil
}

func (m *memS3) CreateMultipartUpload(_ context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	id := strconv.Itoa(m.next)
	m.uploads[id] = &memUpload{key: *in.Key, meta: in.Metadata, parts: map[int32]memPart{}}
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String(id)}, nil
}

func (m *memS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if *in.PartNumber == m.failPart {
		return nil, apiErr{"InternalError"}
	}
	p := memPart{}
	if m.discard {
		p.hash = sha256.New()
		n, err := io.Copy(p.hash, in.Body)
		if err != nil {
			return nil, err
		}
		p.size = n
	} else {
		b, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, err
		}
		p.data, p.size = b, int64(len(b))
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.uploads[*in.UploadId]
	if !ok {
		return nil, apiErr{"NoSuchUpload"}
	}
	u.parts[*in.PartNumber] = p
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprintf("%q", strconv.Itoa(int(*in.PartNumber))))}, nil
}

func (m *memS3) CompleteMultipartUpload(_ context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.uploads[*in.UploadId]
	if !ok {
		return nil, apiErr{"NoSuchUpload"}
	}
	o := memObject{meta: u.meta}
	h := sha256.New()
	for i, cp := range in.MultipartUpload.Parts {
		if *cp.PartNumber != int32(i+1) {
			return nil, apiErr{"InvalidPartOrder"}
		}
		p, ok := u.parts[*cp.PartNumber]
		if !ok {
			return nil, apiErr{"InvalidPart"}
		}
		o.size += p.size
		o.data = append(o.data, p.data...)
		h.Write(p.data)
	}
	if !m.discard {
		o.sha256 = hex.EncodeToString(h.Sum(nil))
	}
	delete(m.uploads, *in.UploadId)
	m.objects[u.key] = o
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (m *memS3) AbortMultipartUpload(_ context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.uploads[*in.UploadId]; !ok {
		return nil, apiErr{"NoSuchUpload"}
	}
	delete(m.uploads, *in.UploadId)
	m.aborted++
	return &s3.AbortMultipartUploadOutput{}, nil
}

func (m *memS3) object(key string) (memObject, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[key]
	return o, ok
}

func (m *memS3) openUploads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.uploads)
}

// errReader fails after n bytes.
type errReader struct {
	r   io.Reader
	n   int64
	err error // default: connection reset
}

func (e *errReader) Read(b []byte) (int, error) {
	if e.n <= 0 {
		return 0, cmp.Or(e.err, errors.New("connection reset"))
	}
	if int64(len(b)) > e.n {
		b = b[:e.n]
	}
	n, err := e.r.Read(b)
	e.n -= int64(n)
	return n, err
}
