package ghsim

import (
	"crypto/rsa"
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// jitMinSize is the smallest encoded_jit_config github.com has answered since mid-2025; an
// SSM Standard parameter (4,096 characters) cannot hold it.
const jitMinSize = 4100

func TestJITConfigHasGitHubsSizeAndShape(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	srv.mu.Lock()
	sc := scope{level: LevelOrg, name: "octo"}
	rn := &runner{id: 42, name: "ghr-i-0abc", groupID: 1, scope: sc}
	enc, err := srv.encodeJIT(rn, "Default", "_work")
	srv.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("encoded_jit_config: %d characters", len(enc))
	if len(enc) < jitMinSize {
		t.Fatalf("encoded_jit_config is %d characters, want >= %d as on github.com", len(enc), jitMinSize)
	}
	if err := runnertoken.ValidateJIT(enc); err != nil {
		t.Fatal(err)
	}
	if jit, reg, err := runnertoken.ParseToken(enc); err != nil || jit != enc || reg != nil {
		t.Fatalf("ParseToken = %q, %v, %v; want the JIT config back", jit[:min(len(jit), 20)], reg, err)
	}
	runnerFile, cred, keyFile, err := DecodeJIT(enc)
	if err != nil {
		t.Fatal(err)
	}
	var rf jitRunnerFile
	if err := json.Unmarshal(runnerFile, &rf); err != nil || rf.AgentID != 42 || rf.AgentName != "ghr-i-0abc" || !rf.Ephemeral || rf.WorkFolder != "_work" {
		t.Fatalf(".runner = %+v, %v", rf, err)
	}
	if !strings.HasPrefix(string(runnerFile), "{\n  \"") {
		t.Fatalf(".runner is not indented as actions/runner writes it: %.20q", runnerFile)
	}
	var c jitCredentials
	if err := json.Unmarshal(cred, &c); err != nil || c.Scheme != "OAuth" || c.Data.ClientID == "" || c.Data.AuthorizationURL == "" {
		t.Fatalf(".credentials = %+v, %v", c, err)
	}
	var p jitRSAParams
	if err := json.Unmarshal(keyFile, &p); err != nil {
		t.Fatal(err)
	}
	// The parameters must form a working 2048-bit key, as the runner imports them.
	k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).SetBytes(p.Modulus), E: int(new(big.Int).SetBytes(p.Exponent).Int64())},
		D: new(big.Int).SetBytes(p.D), Primes: []*big.Int{new(big.Int).SetBytes(p.P), new(big.Int).SetBytes(p.Q)}}
	if err := k.Validate(); err != nil || k.N.BitLen() != 2048 {
		t.Fatalf("rsa params: %d-bit key, %v", k.N.BitLen(), err)
	}
	if len(p.DP) != 128 || len(p.DQ) != 128 || len(p.InverseQ) != 128 || len(p.D) != 256 {
		t.Fatalf("CRT parameters are not padded as .NET exports them: dp %d dq %d iq %d d %d", len(p.DP), len(p.DQ), len(p.InverseQ), len(p.D))
	}
}

func TestInstallationTokensDoNotHaveOneLength(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var in *installation
	for _, v := range srv.installs {
		in = v
		break
	}
	shape := regexp.MustCompile(`^ghs_[A-Za-z0-9]{36,520}$`)
	lengths := map[int]bool{}
	for range 6 {
		tok, _ := srv.mintToken(in)
		if !shape.MatchString(tok) {
			t.Fatalf("token %.12q… (%d chars) is not GitHub's ghs_ shape", tok, len(tok))
		}
		lengths[len(tok)] = true
	}
	if !lengths[40] || len(lengths) < 3 {
		t.Fatalf("token lengths %v: want classic 40-character tokens and longer ones", lengths)
	}
}
