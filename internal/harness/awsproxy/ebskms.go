package awsproxy

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/ghr-dev/ghr/internal/harness/iameval"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// EC2 launches whose volumes use a customer-managed KMS key: AWS lets the launch call
// succeed, then terminates the instance at once when the launching principal may not use
// the key through EC2. moto neither evaluates IAM nor uses KMS for EBS, so the proxy does.

// ebsKeyActions are what the launching principal needs on a volume's customer-managed key
// (EC2's "Required KMS key policy for use with encrypted volumes").
var ebsKeyActions = []string{"kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"}

// launchFailure is the state reason AWS gives an instance it terminated on launch.
const (
	launchFailureCode    = "Client.InternalError"
	launchFailureMessage = "Client.InternalError: Client error on launch"
)

var (
	launchTemplateKey = regexp.MustCompile(`^(LaunchTemplateConfigs\.\d+\.LaunchTemplateSpecification|LaunchTemplate)\.(LaunchTemplateId|LaunchTemplateName|Version)$`)
	directVolumeKey   = regexp.MustCompile(`^BlockDeviceMapping\.\d+\.Ebs\.KmsKeyId$`)
	instanceIDTag     = regexp.MustCompile(`<instanceId>(i-[0-9a-f]+)</instanceId>`)
	launchedID        = regexp.MustCompile(`>(i-[0-9a-f]{8,17})<`) // CreateFleet's <item>, RunInstances' <instanceId>
	stateReasonBlock  = regexp.MustCompile(`(?s)<stateReason>.*?</stateReason>`)
)

// volumeKeys lists the KMS keys the launch's volumes use: from its launch templates and from
// RunInstances' own block device mappings.
func (p *Proxy) volumeKeys(ctx context.Context, form url.Values) ([]string, error) {
	templates := map[string]map[string]string{} // prefix → field → value
	keys := map[string]bool{}
	for k, v := range form {
		if m := launchTemplateKey.FindStringSubmatch(k); m != nil {
			if templates[m[1]] == nil {
				templates[m[1]] = map[string]string{}
			}
			templates[m[1]][m[2]] = v[0]
		}
		if directVolumeKey.MatchString(k) && v[0] != "" {
			keys[v[0]] = true
		}
	}
	c := ec2.NewFromConfig(motoproc.HarnessConfig(p.target.String()))
	for _, t := range templates {
		in := &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{t["Version"]}}
		if in.Versions[0] == "" {
			in.Versions[0] = "$Default"
		}
		if t["LaunchTemplateId"] != "" {
			in.LaunchTemplateId = aws.String(t["LaunchTemplateId"])
		} else {
			in.LaunchTemplateName = aws.String(t["LaunchTemplateName"])
		}
		out, err := c.DescribeLaunchTemplateVersions(ctx, in)
		if err != nil {
			return nil, nil // the emulator answers the launch's own error for a bad template
		}
		for _, v := range out.LaunchTemplateVersions {
			if v.LaunchTemplateData == nil {
				continue
			}
			for _, bd := range v.LaunchTemplateData.BlockDeviceMappings {
				if bd.Ebs != nil && aws.ToString(bd.Ebs.KmsKeyId) != "" {
					keys[aws.ToString(bd.Ebs.KmsKeyId)] = true
				}
			}
		}
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// ebsKeyRefusal says why who may not launch volumes with keyID through EC2, or "" when it
// may (or the key is AWS managed, which EC2 may always use for the account).
func (p *Proxy) ebsKeyRefusal(ctx context.Context, who caller, keyID string) (string, error) {
	checks, err := p.keyChecks(ctx, who, keyID, "ec2", ebsKeyActions, nil)
	if err != nil {
		return fmt.Sprintf("volume key %s cannot be described: %v", keyID, err), nil
	}
	c, d, err := p.decide(ctx, who, checks)
	if err != nil || d == iameval.Allowed {
		return "", err
	}
	return fmt.Sprintf("%s may not %s on %s via EC2", who.Role, c.Action, c.Resource), nil
}

// launch forwards a CreateFleet or RunInstances. When the launching role may not use a
// volume's key, the emulator still launches (as AWS returns the instance ids) and the proxy
// then terminates the instances with AWS's state reason.
func (p *Proxy) launch(w http.ResponseWriter, r *http.Request, body []byte, who caller) {
	form, _ := url.ParseQuery(string(body))
	ctx := r.Context()
	keys, err := p.volumeKeys(ctx, form)
	var refusal string
	for _, k := range keys {
		if err != nil || refusal != "" {
			break
		}
		refusal, err = p.ebsKeyRefusal(ctx, who, k)
	}
	if err != nil {
		writeFault(w, "ec2:", Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "sandbox: " + err.Error()})
		return
	}
	if refusal == "" {
		p.rp.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	r.Header.Del("Accept-Encoding")
	p.rp.ServeHTTP(rec, r)
	var ids []string
	for _, m := range launchedID.FindAllSubmatch(rec.Body.Bytes(), -1) {
		ids = append(ids, string(m[1]))
	}
	if len(ids) > 0 {
		p.mu.Lock()
		for _, id := range ids {
			p.doomed[id] = launchFailureCode
			p.limited["ec2:launch "+launchFailureCode]++
		}
		p.mu.Unlock()
		c := ec2.NewFromConfig(motoproc.HarnessConfig(p.target.String()), func(o *ec2.Options) { o.Region = who.Region })
		if _, err := c.TerminateInstances(context.WithoutCancel(ctx), &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
			writeFault(w, "ec2:", Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "sandbox: terminate: " + err.Error()})
			return
		}
	}
	copyRecorded(w, rec, rec.Body.Bytes())
}

// describeInstances gives instances the proxy failed on launch AWS's state reason.
func (p *Proxy) describeInstances(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	r.Header.Del("Accept-Encoding")
	p.rp.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	p.mu.Lock()
	doomed := make(map[string]string, len(p.doomed))
	for k, v := range p.doomed {
		doomed[k] = v
	}
	p.mu.Unlock()
	var out bytes.Buffer
	last := 0
	for _, span := range instanceItems(body) {
		seg := body[span[0]:span[1]]
		m := instanceIDTag.FindSubmatch(seg)
		if m == nil {
			continue
		}
		if _, ok := doomed[string(m[1])]; !ok {
			continue
		}
		reason := []byte("<stateReason><code>" + launchFailureCode + "</code><message>" + launchFailureMessage + "</message></stateReason>")
		if stateReasonBlock.Match(seg) {
			seg = stateReasonBlock.ReplaceAllLiteral(seg, reason)
		} else if j := bytes.Index(seg, []byte("</instanceState>")); j >= 0 {
			seg = append(append(append([]byte{}, seg[:j+len("</instanceState>")]...), reason...), seg[j+len("</instanceState>"):]...)
		}
		out.Write(body[last:span[0]])
		out.Write(seg)
		last = span[1]
	}
	out.Write(body[last:])
	copyRecorded(w, rec, out.Bytes())
}

// instanceItems returns the byte spans of DescribeInstances' instance elements (the items of
// each instancesSet); a body that is not XML has none.
func instanceItems(body []byte) [][2]int {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []string
	var spans [][2]int
	start := 0
	for {
		off := int(dec.InputOffset())
		tok, err := dec.RawToken()
		if err != nil {
			return spans
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "item" && len(stack) > 0 && stack[len(stack)-1] == "instancesSet" {
				start = off
			}
			stack = append(stack, t.Name.Local)
		case xml.EndElement:
			if len(stack) == 0 {
				return spans
			}
			stack = stack[:len(stack)-1]
			if t.Name.Local == "item" && len(stack) > 0 && stack[len(stack)-1] == "instancesSet" {
				spans = append(spans, [2]int{start, int(dec.InputOffset())})
			}
		}
	}
}

func copyRecorded(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// awsManagedAlias reports whether the key is one moto created for an AWS-managed alias
// (alias/aws/ebs, …): moto marks such keys CUSTOMER, while on AWS they are AWS managed and EC2
// may always use them for the account's own volumes.
func awsManagedAlias(ctx context.Context, c *kms.Client, keyID string) (bool, error) {
	out, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: aws.String(keyID)})
	if err != nil {
		return false, fmt.Errorf("aliases of %s: %w", keyID, err)
	}
	for _, a := range out.Aliases {
		if strings.HasPrefix(aws.ToString(a.AliasName), "alias/aws/") {
			return true, nil
		}
	}
	return false, nil
}
