package ghsim

import (
	"cmp"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strconv"

	"github.com/ghr-dev/ghr/internal/githubapp"
)

// App is one GitHub App the simulator knows. The first (Options.AppID) is the one whose
// webhook delivers events; AddApp adds more, each with its own key, installations and
// secondary limits, as GitHub keeps them apart: an installation token is charged to its own
// installation, a JWT to its own App.
type App struct {
	ID            int64
	Slug          string
	PrivateKeyPEM []byte
}

// AppOptions describe an App added with AddApp.
type AppOptions struct {
	Slug string // default "ghr-sim-<id>"
	// PrivateKeyPEM nil generates a key (about a second of CPU).
	PrivateKeyPEM []byte
	// SecondaryPoints is this App's per-endpoint budget per minute, for its JWT and each of its
	// installations; 0 is Options.SecondaryPoints.
	SecondaryPoints int
}

type simApp struct {
	App
	key    *rsa.PrivateKey
	points int // 0: the simulator's SecondaryPoints
}

// identityKey names the rate-limit buckets of the App's JWT. The first App keeps "app", the
// key it always had.
func (a *simApp) identityKey(primary int64) string {
	if a.ID == primary {
		return "app"
	}
	return "app:" + strconv.FormatInt(a.ID, 10)
}

func newSimApp(id int64, slug string, pemBytes []byte, points int) (*simApp, error) {
	if pemBytes == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("ghsim: generate app key: %w", err)
		}
		pemBytes = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	}
	k, err := githubapp.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("ghsim: %w", err)
	}
	return &simApp{App: App{ID: id, Slug: slug, PrivateKeyPEM: pemBytes}, key: k, points: points}, nil
}

// AddApp registers another App with its own id (the next after the largest), key and limits.
// It has no webhook: ghr receives events from one App and uses the others for API calls.
func (s *Sim) AddApp(o AppOptions) (App, error) {
	s.mu.Lock()
	id := s.opts.AppID
	for k := range s.apps {
		id = max(id, k)
	}
	id++
	s.mu.Unlock()
	if o.Slug == "" {
		o.Slug = "ghr-sim-" + strconv.FormatInt(id, 10)
	}
	a, err := newSimApp(id, o.Slug, o.PrivateKeyPEM, o.SecondaryPoints)
	if err != nil {
		return App{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[id]; ok {
		return App{}, fmt.Errorf("app %d: %w", id, ErrExists)
	}
	s.apps[id] = a
	return a.App, nil
}

// Apps returns every App, the webhook App first.
func (s *Sim) Apps() []App {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]App, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a.App)
	}
	slices.SortFunc(out, func(a, b App) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// app returns the App with id, or nil. Caller holds mu.
func (s *Sim) app(id int64) *simApp { return s.apps[id] }

// appSlug is App id's slug. Caller holds mu.
func (s *Sim) appSlug(id int64) string {
	if a := s.app(id); a != nil {
		return a.Slug
	}
	return s.opts.AppSlug
}
