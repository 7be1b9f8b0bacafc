// Package bootstraptest runs ghr's real instance bootstrap scripts on a fake instance: a
// temporary root, stub system commands on PATH (aws, shutdown, useradd, runuser, getent,
// chown), an IMDSv2 server on loopback, fake SSM and S3 stores kept as files, and a stub
// runner whose config.sh, run.sh and svc.sh record their arguments.
package bootstraptest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// maxIMDSTokenTTL is the largest TTL IMDSv2 grants (six hours), as documented by EC2.
const maxIMDSTokenTTL = 21600

// IMDS plays EC2's instance metadata service, IMDSv2 only: a token from
// PUT /latest/api/token must accompany every GET, as on an instance whose launch template
// sets http_tokens = "required".
type IMDS struct {
	URL string

	mu         sync.Mutex
	srv        *httptest.Server
	tokens     map[string]bool
	meta       map[string]string // path under /latest/meta-data/ → value
	tags       map[string]string
	tokenless  int // GETs without a valid token (an IMDSv1 client would make these)
	refuseToks bool
}

// NewIMDS starts a metadata server for one instance. Tags are served under
// /latest/meta-data/tags/instance/ as with instance_metadata_tags = "enabled"; pass nil to
// play an instance whose metadata tags are disabled.
func NewIMDS(instanceID, region string, tags map[string]string) *IMDS {
	m := &IMDS{
		tokens: map[string]bool{},
		meta:   map[string]string{"instance-id": instanceID, "placement/region": region},
		tags:   tags,
	}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	m.URL = m.srv.URL
	return m
}

// Close stops the server.
func (m *IMDS) Close() { m.srv.Close() }

// TokenlessRequests counts GETs that came without a valid IMDSv2 token.
func (m *IMDS) TokenlessRequests() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokenless
}

// RefuseTokens makes PUT /latest/api/token fail, as when IMDS is disabled for the instance.
func (m *IMDS) RefuseTokens() {
	m.mu.Lock()
	m.refuseToks = true
	m.mu.Unlock()
}

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.URL.Path == "/latest/api/token" {
		m.issueToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !m.tokens[r.Header.Get("X-aws-ec2-metadata-token")] {
		m.tokenless++
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, "/latest/meta-data/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	if key, isTag := strings.CutPrefix(path, "tags/instance/"); isTag {
		v, ok := m.tags[key]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
		return
	}
	v, ok := m.meta[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write([]byte(v))
}

func (m *IMDS) issueToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if m.refuseToks {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > maxIMDSTokenTTL {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	m.tokens[tok] = true
	_, _ = w.Write([]byte(tok))
}
