package ghsim

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
)

// jitKeyBits is the size of the RSA key GitHub puts in a JIT config's
// .credentials_rsaparams; it is what makes encoded_jit_config about 4.1 KB (since mid-2025).
const jitKeyBits = 2048

// jitKey is one real 2048-bit key shared by every JIT config the process issues: the size and
// shape are GitHub's, and generating a key per runner would cost ~0.1–1 s of CPU each on a
// shared machine. The simulator never signs with it (docs/relaxations.md).
var jitKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, jitKeyBits)
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return k
})

// jitFiles is the shape of GitHub's encoded_jit_config: base64 of a JSON object holding the
// runner's .runner, .credentials and .credentials_rsaparams files, each base64 of the file
// as actions/runner writes it (indented JSON).
type jitFiles struct {
	Runner      string `json:".runner"`
	Credentials string `json:".credentials"`
	RSAParams   string `json:".credentials_rsaparams"`
}

// jitRunnerFile is actions/runner's RunnerSettings (.runner) for a JIT runner.
type jitRunnerFile struct {
	AgentID     int64  `json:"AgentId"`
	AgentName   string `json:"AgentName"`
	PoolID      int64  `json:"PoolId"`
	PoolName    string `json:"PoolName"`
	Ephemeral   bool   `json:"Ephemeral"`
	ServerURL   string `json:"ServerUrl"`
	GitHubURL   string `json:"GitHubUrl"`
	WorkFolder  string `json:"WorkFolder"`
	UseV2Flow   bool   `json:"UseV2Flow"`
	ServerURLV2 string `json:"ServerUrlV2"`
}

// jitCredentials is actions/runner's CredentialData (.credentials) for the OAuth scheme.
type jitCredentials struct {
	Scheme string `json:"Scheme"`
	Data   struct {
		ClientID                string `json:"clientId"`
		AuthorizationURL        string `json:"authorizationUrl"`
		RequireFipsCryptography string `json:"requireFipsCryptography"`
	} `json:"Data"`
}

// jitRSAParams is actions/runner's RSAParametersSerializable (.credentials_rsaparams): the
// private key's parameters, big-endian bytes in base64.
type jitRSAParams struct {
	D        []byte `json:"d"`
	DP       []byte `json:"dp"`
	DQ       []byte `json:"dq"`
	Exponent []byte `json:"exponent"`
	InverseQ []byte `json:"inverseQ"`
	Modulus  []byte `json:"modulus"`
	P        []byte `json:"p"`
	Q        []byte `json:"q"`
}

func rsaParams(k *rsa.PrivateKey) jitRSAParams {
	// .NET exports every CRT parameter at half the modulus length, left-padded.
	half := (k.N.BitLen() + 15) / 16
	pad := func(n *big.Int, size int) []byte { return n.FillBytes(make([]byte, size)) }
	size := (k.N.BitLen() + 7) / 8
	return jitRSAParams{
		D: pad(k.D, size), DP: pad(k.Precomputed.Dp, half), DQ: pad(k.Precomputed.Dq, half),
		Exponent: big.NewInt(int64(k.E)).Bytes(), InverseQ: pad(k.Precomputed.Qinv, half),
		Modulus: pad(k.N, size), P: pad(k.Primes[0], half), Q: pad(k.Primes[1], half),
	}
}

// fileB64 renders v as actions/runner saves a settings file (two-space indented JSON) and
// encodes it as GitHub does inside encoded_jit_config.
func fileB64(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return base64.StdEncoding.EncodeToString(b), err
}

// encodeJIT builds a runner's JIT config; the client id is the secret ConnectJIT redeems.
// Caller holds mu.
func (s *Sim) encodeJIT(r *runner, groupName, workFolder string) (string, error) {
	secret := newGUID()
	tenant := newGUID()
	rf, err := fileB64(jitRunnerFile{AgentID: r.id, AgentName: r.name, PoolID: r.groupID, PoolName: groupName,
		Ephemeral: true, ServerURL: "https://pipelinesghubeus" + fmt.Sprint(1+r.id%20) + ".actions.githubusercontent.com/" + randomString(50) + "/",
		GitHubURL: "https://github.com/" + r.scope.name, WorkFolder: workFolder, UseV2Flow: true,
		ServerURLV2: "https://broker.actions.githubusercontent.com/"})
	if err != nil {
		return "", err
	}
	var c jitCredentials
	c.Scheme, c.Data.ClientID, c.Data.RequireFipsCryptography = "OAuth", secret, "True"
	c.Data.AuthorizationURL = "https://vstoken.actions.githubusercontent.com/_apis/oauth2/token/" + tenant
	cf, err := fileB64(c)
	if err != nil {
		return "", err
	}
	kf, err := fileB64(rsaParams(jitKey()))
	if err != nil {
		return "", err
	}
	out, err := json.Marshal(jitFiles{Runner: rf, Credentials: cf, RSAParams: kf})
	if err != nil {
		return "", err
	}
	s.jits[secret] = r.id
	return base64.StdEncoding.EncodeToString(out), nil
}

// DecodeJIT reads an encoded_jit_config back into the three files the runner writes, as
// `run.sh --jitconfig` does before it starts; an error says which part is malformed.
func DecodeJIT(encoded string) (runnerFile []byte, credentials []byte, rsaParamsFile []byte, err error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("ghsim: jit config is not base64: %w", err)
	}
	var files jitFiles
	if err := json.Unmarshal(raw, &files); err != nil {
		return nil, nil, nil, fmt.Errorf("ghsim: jit config: %w", err)
	}
	out := make([][]byte, 3)
	for i, f := range []struct{ name, v string }{{".runner", files.Runner}, {".credentials", files.Credentials}, {".credentials_rsaparams", files.RSAParams}} {
		b, err := base64.StdEncoding.DecodeString(f.v)
		if err != nil || !json.Valid(b) {
			return nil, nil, nil, fmt.Errorf("ghsim: jit config %s is not base64 of JSON", f.name)
		}
		out[i] = b
	}
	return out[0], out[1], out[2], nil
}
