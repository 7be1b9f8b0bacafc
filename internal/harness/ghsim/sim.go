package ghsim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// shutdownTimeout bounds how long Close waits for in-flight requests and deliveries.
	shutdownTimeout = 5 * time.Second
	// readHeaderTimeout drops clients that never finish their headers.
	readHeaderTimeout = 10 * time.Second
)

// Sim is the simulated GitHub: an http.Handler for the REST API plus the Go API the test bed
// drives (accounts, jobs, runner hosts, faults, observers). Safe for concurrent use.
type Sim struct {
	opts   Options
	key    *rsa.PrivateKey // the first App's
	keyPEM []byte
	mux    *http.ServeMux

	baseURL atomic.Value // string

	manifests manifestState // the App manifest flow (manifests.go)

	mu       sync.Mutex
	nextID   int64 // accounts, repositories, installations, groups
	minted   int64 // installation tokens issued: alternates their shape
	accounts map[string]*account
	repos    map[string]*repo
	installs map[int64]*installation
	apps     map[int64]*simApp // by App id; the first is Options.AppID (apps.go)
	tokens   map[string]*instToken
	regs     map[string]*regToken
	groups   map[string][]runnerGroup // org login (lower) → groups
	runners  map[int64]*runner
	jits     map[string]int64 // JIT credential → runner id, until used
	nextRun  int64
	nextJob  int64
	jobs     map[int64]*job
	queue    []int64 // queued job ids, oldest first
	releases []Release

	limits *limiter
	faults *faults
	stats  *stats
	hooks  *hooks
}

// New builds a simulator without listening; serve it with any http.Server or use Start.
func New(opts Options) (*Sim, error) {
	opts.applyDefaults()
	s := &Sim{
		opts:   opts,
		nextID: 1000, nextRun: 5_000_000_000, nextJob: 20_000_000_000,
		accounts: map[string]*account{}, repos: map[string]*repo{}, installs: map[int64]*installation{},
		apps:   map[int64]*simApp{},
		tokens: map[string]*instToken{}, regs: map[string]*regToken{}, groups: map[string][]runnerGroup{},
		runners: map[int64]*runner{}, jits: map[string]int64{}, jobs: map[int64]*job{},
		releases: opts.RunnerReleases,
		limits:   newLimiter(opts),
		faults:   newFaults(opts.Seed),
		stats:    newStats(),
	}
	s.SetBaseURL(opts.BaseURL)
	if err := s.loadKey(opts.PrivateKeyPEM); err != nil {
		return nil, err
	}
	if err := s.indexReleases(); err != nil {
		return nil, err
	}
	s.hooks = newHooks(s, opts)
	s.mux = s.routes()
	return s, nil
}

func (s *Sim) loadKey(pemBytes []byte) error {
	a, err := newSimApp(s.opts.AppID, s.opts.AppSlug, pemBytes, 0)
	if err != nil {
		return err
	}
	s.apps[a.ID] = a
	s.key, s.keyPEM = a.key, a.PrivateKeyPEM
	return nil
}

// ServeHTTP serves GitHub's REST API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops webhook delivery, waiting up to shutdownTimeout for deliveries in flight.
func (s *Sim) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	s.hooks.close(ctx)
}

// AppID is the App's id, for githubapp.Config.AppID.
func (s *Sim) AppID() int64 { return s.opts.AppID }

// PrivateKeyPEM is the App's private key, for githubapp.Config.PrivateKey.
func (s *Sim) PrivateKeyPEM() []byte { return s.keyPEM }

// SetBaseURL sets the URL written into resources (Start does this).
func (s *Sim) SetBaseURL(u string) { s.baseURL.Store(strings.TrimSuffix(u, "/")) }

// now keeps full precision for the test bed's timings; JSON renders whole seconds as GitHub.
func (s *Sim) now() time.Time { return s.opts.Now().UTC() }

// apiURL is the base for "url" fields: the simulator's own address once known.
func (s *Sim) apiURL() string {
	if u, _ := s.baseURL.Load().(string); u != "" {
		return u
	}
	return "https://api.github.com"
}

// Server is a simulator listening on a loopback port.
type Server struct {
	*Sim
	URL  string // e.g. http://127.0.0.1:41234, the API URL for githubapp.Config.APIURL
	http *http.Server
	done chan struct{}
}

// Start serves a new simulator on 127.0.0.1 at a free port until ctx ends or Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("ghsim: listen: %w", err)
	}
	url := "http://" + ln.Addr().String()
	if opts.BaseURL == "" {
		opts.BaseURL = url
	}
	sim, err := New(opts)
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := &Server{Sim: sim, URL: url, done: make(chan struct{}),
		http: &http.Server{Handler: sim, ReadHeaderTimeout: readHeaderTimeout}}
	go func() {
		defer close(srv.done)
		if err := srv.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			sim.opts.Logger.Error("ghsim serve", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			srv.Close()
		case <-srv.done:
		}
	}()
	return srv, nil
}

// Close stops listening and delivering.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(ctx)
	s.Sim.Close()
	<-s.done
	return err
}

// rng draws reproducible numbers for injected faults.
type rng struct {
	mu sync.Mutex
	r  *mrand.Rand
}

func newRNG(seed uint64) *rng { return &rng{r: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *rng) float() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.Float64()
}
