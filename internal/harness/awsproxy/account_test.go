package awsproxy

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

func accountThroughProxy(t *testing.T) (*Proxy, aws.Config) {
	t.Helper()
	p, err := New(motoserver.Shared(t).URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	cfg := motoproc.AWSConfig(srv.URL)
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return p, cfg
}

// TestLambdaAccountSettings: the quota and what reservations leave of it, as Lambda reports
// them, and a reservation under the floor of unreserved executions refused as Lambda does.
func TestLambdaAccountSettings(t *testing.T) {
	ctx := context.Background()
	p, cfg := accountThroughProxy(t)
	lc := lambda.NewFromConfig(cfg)
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("account-test-fn"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	f, _ := zw.Create("bootstrap")
	f.Write([]byte("#!/bin/sh\n"))
	zw.Close()
	name := "account-test-fn"
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(name), Role: role.Role.Arn,
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	before, err := lc.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	got, err := lc.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if l := got.AccountLimit; l.ConcurrentExecutions != DefaultLambdaConcurrency || l.UnreservedConcurrentExecutions == nil ||
		*l.UnreservedConcurrentExecutions != *before.AccountLimit.UnreservedConcurrentExecutions-7 || l.CodeSizeZipped != lambdaCodeSizeZipped {
		t.Errorf("account limit %+v (before %+v)", *l, *before.AccountLimit)
	}
	if got.AccountUsage == nil || got.AccountUsage.FunctionCount < 1 {
		t.Errorf("account usage %+v", got.AccountUsage)
	}

	// A new account's quota of 10 cannot hold the reservation while keeping 100 unreserved.
	p.SetLambdaConcurrency(10)
	_, err = lc.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String(name), ReservedConcurrentExecutions: aws.Int32(1)})
	if apiCode(err) != "InvalidParameterValueException" || !strings.Contains(err.Error(), "below its minimum value of [100]") {
		t.Errorf("reservation on a quota of 10: %v", err)
	}
	if got, err := lc.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{}); err != nil || got.AccountLimit.ConcurrentExecutions != 10 {
		t.Errorf("quota after SetLambdaConcurrency(10): %+v %v", got, err)
	}
}

// TestServiceLinkedRoleNames: the spot role has AWS's name and path, and a second creation is
// refused with IAM's answer.
func TestServiceLinkedRoleNames(t *testing.T) {
	ctx := context.Background()
	_, cfg := accountThroughProxy(t)
	ic := iam.NewFromConfig(cfg)
	out, err := ic.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("spot.amazonaws.com")})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Role; aws.ToString(r.RoleName) != "AWSServiceRoleForEC2Spot" || aws.ToString(r.Path) != "/aws-service-role/spot.amazonaws.com/" ||
		!strings.HasSuffix(aws.ToString(r.Arn), ":role/aws-service-role/spot.amazonaws.com/AWSServiceRoleForEC2Spot") {
		t.Errorf("role %s path %s arn %s", aws.ToString(r.RoleName), aws.ToString(r.Path), aws.ToString(r.Arn))
	}
	if _, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("AWSServiceRoleForEC2Spot")}); err != nil {
		t.Error(err)
	}
	_, err = ic.CreateServiceLinkedRole(ctx, &iam.CreateServiceLinkedRoleInput{AWSServiceName: aws.String("spot.amazonaws.com")})
	if apiCode(err) != "InvalidInput" || !strings.Contains(err.Error(), "has been taken in this account") {
		t.Errorf("second creation: %v", err)
	}
	if _, err := ic.DeleteServiceLinkedRole(ctx, &iam.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForEC2Spot")}); err != nil {
		t.Errorf("delete: %v", err)
	}
}
