package awsproxy

// EC2's own tags. EC2 tags every instance it launches from a launch template with
// aws:ec2launchtemplate:id and aws:ec2launchtemplate:version (and aws:ec2:fleet-id when a
// fleet launched it), and nobody else may create or delete a tag whose key starts with
// "aws:": that is what makes the launch template id a proof of ownership nobody outside the
// deployment can forge (ghr's listings and IAM conditions rely on it). moto 5.2.1 sets the
// template tags on RunInstances only and accepts aws: keys from anyone; the proxy does both
// as EC2 does.

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
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// The tag keys EC2 sets on what it launches.
const (
	TagLaunchTemplateID      = "aws:ec2launchtemplate:id"
	TagLaunchTemplateVersion = "aws:ec2launchtemplate:version"
	TagFleetID               = "aws:ec2:fleet-id"
)

// reservedPrefix starts every tag key only AWS may set; EC2 compares it without case.
const reservedPrefix = "aws:"

// tagKeyField is a tag key in an EC2 query request: Tag.N.Key (CreateTags, DeleteTags) or
// TagSpecification.N.Tag.M.Key (RunInstances, CreateFleet, Create* with tags).
var tagKeyField = regexp.MustCompile(`(^|\.)Tag\.\d+\.Key$`)

// reservedTagRefusal is EC2's answer to a request that names a tag key with the aws: prefix,
// or nil when the request names none.
func reservedTagRefusal(action string, form url.Values) *Fault {
	if !strings.HasPrefix(action, "ec2:") {
		return nil
	}
	fields := make([]string, 0, len(form))
	for k := range form {
		fields = append(fields, k)
	}
	sort.Strings(fields) // the first offending key in request order names the error
	for _, k := range fields {
		if !tagKeyField.MatchString(k) {
			continue
		}
		key := form.Get(k)
		if len(key) >= len(reservedPrefix) && strings.EqualFold(key[:len(reservedPrefix)], reservedPrefix) {
			return &Fault{Status: http.StatusBadRequest, Code: "InvalidParameterValue",
				Message: fmt.Sprintf("Value ( %s ) for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use", key)}
		}
	}
	return nil
}

// fleetAnswer is the part of CreateFleet's answer that says what was launched from what.
type fleetAnswer struct {
	FleetID   string `xml:"fleetId"`
	Instances []struct {
		IDs      []string `xml:"instanceIds>item"`
		Template struct {
			ID      string `xml:"launchTemplateId"`
			Version string `xml:"version"`
		} `xml:"launchTemplateAndOverrides>launchTemplateSpecification"`
	} `xml:"fleetInstanceSet>item"`
}

// ec2Owned answers what EC2 itself decides about tags: it refuses aws: keys from callers and
// tags fleet launches. handled is false for every other request.
func (p *Proxy) ec2Owned(w http.ResponseWriter, r *http.Request, body []byte, action string) (handled bool) {
	if !strings.HasPrefix(action, "ec2:") {
		return false
	}
	form, _ := url.ParseQuery(string(body))
	if f := reservedTagRefusal(action, form); f != nil {
		p.mu.Lock()
		p.limited[action+" "+f.Code]++
		p.mu.Unlock()
		writeFault(w, action, *f)
		return true
	}
	if action != "ec2:CreateFleet" {
		return false
	}
	p.serveFleet(w, r, body, func(w http.ResponseWriter, r *http.Request) {
		if who, ok := p.callerOf(r); ok {
			p.launch(w, r, body, who)
			return
		}
		p.rp.ServeHTTP(w, r)
	})
	return true
}

// serveFleet forwards a CreateFleet through next and, before answering, tags every launched
// instance with EC2's template and fleet tags, so the caller never sees an instance without
// them (on EC2 they exist from launch).
func (p *Proxy) serveFleet(w http.ResponseWriter, r *http.Request, body []byte, next func(http.ResponseWriter, *http.Request)) {
	rec := httptest.NewRecorder()
	r.Header.Del("Accept-Encoding")
	next(rec, r)
	if rec.Code == http.StatusOK {
		form, _ := url.ParseQuery(string(body))
		who, _ := p.callerOf(r)
		region := who.Region
		if err := p.tagFleetLaunch(context.WithoutCancel(r.Context()), region, form, rec.Body.Bytes()); err != nil {
			writeFault(w, "ec2:", Fault{Status: http.StatusInternalServerError, Code: "InternalError", Message: "sandbox: " + err.Error()})
			return
		}
	}
	copyRecorded(w, rec, rec.Body.Bytes())
}

func (p *Proxy) tagFleetLaunch(ctx context.Context, region string, form url.Values, answer []byte) error {
	var a fleetAnswer
	if err := xml.NewDecoder(bytes.NewReader(answer)).Decode(&a); err != nil {
		return fmt.Errorf("read CreateFleet answer: %w", err)
	}
	c := ec2.NewFromConfig(motoproc.HarnessConfig(p.target.String()), func(o *ec2.Options) {
		if region != "" {
			o.Region = region
		}
	})
	type launch struct{ id, version string }
	byTemplate := map[launch][]string{}
	for _, in := range a.Instances {
		if len(in.IDs) == 0 {
			continue
		}
		l := launch{in.Template.ID, in.Template.Version}
		if l.id == "" || l.version == "" || strings.HasPrefix(l.version, "$") {
			var err error
			if l.id, l.version, err = requestedTemplate(ctx, c, form); err != nil {
				return err
			}
		}
		byTemplate[l] = append(byTemplate[l], in.IDs...)
	}
	for l, ids := range byTemplate {
		ts := []ec2types.Tag{
			{Key: aws.String(TagLaunchTemplateID), Value: aws.String(l.id)},
			{Key: aws.String(TagLaunchTemplateVersion), Value: aws.String(l.version)},
		}
		if a.FleetID != "" {
			ts = append(ts, ec2types.Tag{Key: aws.String(TagFleetID), Value: aws.String(a.FleetID)})
		}
		// The profile first: the template tags then mark a launch the proxy has finished.
		if err := associateTemplateProfile(ctx, c, l.id, l.version, ids); err != nil {
			return err
		}
		if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: ts}); err != nil {
			return fmt.Errorf("tag fleet launch: %w", err)
		}
	}
	return nil
}

// requestedTemplate resolves the request's first launch template (by id or name) and version
// ($Default, $Latest or a number) to the id and version number EC2 records.
func requestedTemplate(ctx context.Context, c *ec2.Client, form url.Values) (id, version string, err error) {
	const spec = "LaunchTemplateConfigs.1.LaunchTemplateSpecification."
	in := &ec2.DescribeLaunchTemplatesInput{}
	if v := form.Get(spec + "LaunchTemplateId"); v != "" {
		in.LaunchTemplateIds = []string{v}
	} else if v := form.Get(spec + "LaunchTemplateName"); v != "" {
		in.LaunchTemplateNames = []string{v}
	} else {
		return "", "", fmt.Errorf("CreateFleet names no launch template")
	}
	out, err := c.DescribeLaunchTemplates(ctx, in)
	if err != nil {
		return "", "", fmt.Errorf("resolve launch template: %w", err)
	}
	if len(out.LaunchTemplates) != 1 {
		return "", "", fmt.Errorf("resolve launch template: %d found", len(out.LaunchTemplates))
	}
	lt := out.LaunchTemplates[0]
	switch v := form.Get(spec + "Version"); v {
	case "", "$Default":
		version = fmt.Sprint(aws.ToInt64(lt.DefaultVersionNumber))
	case "$Latest":
		version = fmt.Sprint(aws.ToInt64(lt.LatestVersionNumber))
	default:
		version = v
	}
	return aws.ToString(lt.LaunchTemplateId), version, nil
}

// InFront puts a proxy in front of the emulator for one test and returns it as the emulator
// to use: what the caller launches gets EC2's own tags as on AWS, which the deployment's
// listings require. The proxy stops on cleanup.
func InFront(tb testing.TB, moto *motoserver.Server) *motoserver.Server {
	tb.Helper()
	p, err := New(moto.URL, 1)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	return &motoserver.Server{URL: srv.URL}
}
