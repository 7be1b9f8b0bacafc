package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// IMDS limits, as EC2 applies them.
const (
	imdsMaxTokenTTL   = 21600 // seconds: the largest X-aws-ec2-metadata-token-ttl-seconds EC2 accepts
	imdsDefaultHopTTL = 1     // the launch template's http_put_response_hop_limit default
	imdsCredsRefresh  = 5 * time.Minute
)

// imds is one instance's metadata service (IMDSv2 only: http_tokens = "required"). It
// serves what start-runner.sh and the AWS CLI read: identity, placement, instance tags and
// the instance profile role's credentials.
type imds struct {
	instanceID, region, az, role string
	tags                         map[string]string
	creds                        func(context.Context) (aws.Credentials, error)

	mu     sync.Mutex
	tokens map[string]time.Time // token → expiry
}

func (m *imds) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Forwarded-For") != "" {
		// EC2 refuses token requests that went through a proxy.
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	if r.URL.Path == "/latest/api/token" {
		m.token(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if !m.valid(r.Header.Get("X-aws-ec2-metadata-token")) {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/latest/")
	switch {
	case p == "meta-data/instance-id":
		text(w, m.instanceID)
	case p == "meta-data/placement/region":
		text(w, m.region)
	case p == "meta-data/placement/availability-zone":
		text(w, m.az)
	case p == "meta-data/tags/instance" || p == "meta-data/tags/instance/":
		keys := make([]string, 0, len(m.tags))
		for k := range m.tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		text(w, strings.Join(keys, "\n"))
	case strings.HasPrefix(p, "meta-data/tags/instance/"):
		v, ok := m.tags[strings.TrimPrefix(p, "meta-data/tags/instance/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		text(w, v)
	case p == "dynamic/instance-identity/document":
		writeJSONDoc(w, map[string]string{"instanceId": m.instanceID, "region": m.region, "availabilityZone": m.az})
	case p == "meta-data/iam/security-credentials" || p == "meta-data/iam/security-credentials/":
		if m.role == "" {
			http.NotFound(w, r)
			return
		}
		text(w, m.role)
	case m.role != "" && p == "meta-data/iam/security-credentials/"+m.role:
		c, err := m.creds(r.Context())
		if err != nil {
			http.Error(w, "credentials unavailable: "+err.Error(), http.StatusInternalServerError)
			return
		}
		writeJSONDoc(w, map[string]string{"Code": "Success", "Type": "AWS-HMAC",
			"LastUpdated": time.Now().UTC().Format(time.RFC3339), "AccessKeyId": c.AccessKeyID,
			"SecretAccessKey": c.SecretAccessKey, "Token": c.SessionToken, "Expiration": c.Expires.UTC().Format(time.RFC3339)})
	default:
		http.NotFound(w, r)
	}
}

func (m *imds) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
	if err != nil || ttl < 1 || ttl > imdsMaxTokenTTL {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	m.mu.Lock()
	if m.tokens == nil {
		m.tokens = map[string]time.Time{}
	}
	m.tokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
	m.mu.Unlock()
	w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
	text(w, tok)
}

func (m *imds) valid(tok string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.tokens[tok]
	return ok && time.Now().Before(exp)
}

func text(w http.ResponseWriter, s string) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(s))
}

func writeJSONDoc(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// hopLimited sets each accepted connection's IP TTL to the hop limit, as EC2 does for
// IMDS answers: a container behind one more hop (a bridge network) cannot reach it.
type hopLimited struct {
	net.Listener
	hops int
}

func (l hopLimited) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) {
				_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_TTL, l.hops)
			})
		}
	}
	return c, nil
}
