package ghsim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// GitHub's authentication answers (401 bodies).
const (
	msgBadCredentials = "Bad credentials"
	msgRequiresAuth   = "Requires authentication"
	msgJWTDecode      = "A JSON web token could not be decoded"
	msgJWTExpired     = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTTooLong     = "'Expiration time' claim ('exp') is too far in the future"
	msgJWTIssuer      = "'Issuer' claim ('iss') must be an Integer"
	msgJWTIssuedAt    = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)

// auth kinds a route accepts.
type authKind int

const (
	authApp          authKind = iota // the App's JWT
	authInstallation                 // an installation token
	authAny                          // anyone, including anonymous callers (public data)
)

// identity is who a request is from; key names its rate-limit buckets.
type identity struct {
	kind authKind // authApp, authInstallation, or authAny for anonymous
	app  *simApp  // the App calling, or the App of the installation; nil for anonymous
	inst *installation
	key  string
}

type instToken struct {
	installationID int64
	expires        time.Time
}

type regToken struct {
	scope   scope
	expires time.Time
}

// authenticate resolves the caller, or answers 401 and returns false.
func (s *Sim) authenticate(w http.ResponseWriter, r *http.Request, want authKind) (identity, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case h == "":
		if want == authAny {
			return identity{kind: authAny, key: "anonymous"}, true
		}
		writeError(w, http.StatusUnauthorized, msgRequiresAuth, docAuth)
		return identity{}, false
	case !strings.EqualFold(scheme, "bearer") && !strings.EqualFold(scheme, "token"):
		writeError(w, http.StatusUnauthorized, msgBadCredentials, docAuth)
		return identity{}, false
	case strings.Count(cred, ".") == 2: // a JWT
		app, msg := s.verifyJWT(cred)
		if msg != "" {
			writeError(w, http.StatusUnauthorized, msg, docAuth)
			return identity{}, false
		}
		if want == authInstallation {
			// GitHub: an App's JWT cannot act on an installation's resources.
			writeError(w, http.StatusForbidden, msgNotAccessible, docAuth)
			return identity{}, false
		}
		return identity{kind: authApp, app: app, key: app.identityKey(s.opts.AppID)}, true
	}
	s.mu.Lock()
	t, ok := s.tokens[cred]
	var in *installation
	var app *simApp
	if ok && s.now().Before(t.expires) {
		if in = s.installs[t.installationID]; in != nil {
			app = s.app(in.AppID)
		}
	}
	s.mu.Unlock()
	if in == nil {
		writeError(w, http.StatusUnauthorized, msgBadCredentials, docAuth)
		return identity{}, false
	}
	if want == authApp {
		writeError(w, http.StatusUnauthorized, msgJWTDecode, docAuth)
		return identity{}, false
	}
	return identity{kind: authInstallation, app: app, inst: in, key: "installation:" + strconv.FormatInt(in.ID, 10)}, true
}

// verifyJWT checks an App JWT the way GitHub does: RS256 signed by the key of the App its iss
// names, iat not in the future (with leeway), exp in the future and at most 10 minutes after
// iat. It returns the App, or GitHub's message for a rejected token.
func (s *Sim) verifyJWT(raw string) (*simApp, string) {
	claims := jwt.MapClaims{}
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation())
	var app *simApp
	parsed := false // the token decoded; only its key is in question
	keyOf := func(t *jwt.Token) (any, error) {
		parsed = true
		c, _ := t.Claims.(jwt.MapClaims)
		iss, err := strconv.ParseInt(fmt.Sprint(c["iss"]), 10, 64)
		if err != nil {
			return nil, errors.New("iss is not an App id")
		}
		s.mu.Lock()
		app = s.app(iss)
		s.mu.Unlock()
		if app == nil {
			return nil, errors.New("no such App")
		}
		return &app.key.PublicKey, nil
	}
	if _, err := p.ParseWithClaims(raw, claims, keyOf); err != nil {
		if parsed && app == nil {
			return nil, msgJWTIssuer // iss names no App
		}
		return nil, msgJWTDecode
	}
	iat, ok1 := claims["iat"].(float64)
	exp, ok2 := claims["exp"].(float64)
	if !ok1 {
		return nil, msgJWTIssuedAt
	}
	if !ok2 {
		return nil, msgJWTExpired
	}
	now := s.opts.Now()
	issued, expires := time.Unix(int64(iat), 0), time.Unix(int64(exp), 0)
	switch {
	case issued.After(now.Add(jwtLeeway)):
		return nil, msgJWTIssuedAt
	case !expires.After(now):
		return nil, msgJWTExpired
	case expires.Sub(issued) > jwtMaxLifetime+jwtLeeway:
		return nil, msgJWTTooLong
	}
	return app, ""
}

// classicTokenLen is the length of a classic installation token's body after "ghs_";
// longTokenMax bounds the body of the longer stateless tokens GitHub is rolling out, whose
// length is not fixed: clients must not assume 40 characters in all.
const (
	classicTokenLen = 36
	longTokenMax    = 520
)

// mintToken creates an installation token: classic and long stateless shapes alternate, so
// every client path meets both. Caller holds mu.
func (s *Sim) mintToken(in *installation) (string, time.Time) {
	s.minted++
	n := classicTokenLen
	if s.minted%2 == 0 {
		n = classicTokenLen + 1 + int(s.minted*7919)%(longTokenMax-classicTokenLen)
	}
	tok := "ghs_" + randomString(n)
	exp := s.now().Add(s.opts.TokenLifetime)
	s.tokens[tok] = &instToken{installationID: in.ID, expires: exp}
	return tok, exp
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

func newGUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
