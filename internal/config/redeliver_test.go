package config

import (
	"strings"
	"testing"
	"time"
)

func TestReadRedeliver(t *testing.T) {
	base := map[string]string{"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k"}
	r, err := ReadRedeliver(MapEnv(base))
	if err != nil {
		t.Fatal(err)
	}
	if r.Lookback != time.Hour || r.MaxPerPass != 100 {
		t.Fatalf("defaults = %+v", r)
	}
	base["REDELIVER_LOOKBACK"], base["REDELIVER_MAX_PER_PASS"] = "6h", "20"
	if r, err = ReadRedeliver(MapEnv(base)); err != nil || r.Lookback != 6*time.Hour || r.MaxPerPass != 20 {
		t.Fatalf("ReadRedeliver = %+v, %v", r, err)
	}
	base["REDELIVER_LOOKBACK"], base["REDELIVER_MAX_PER_PASS"] = "73h", "0"
	_, err = ReadRedeliver(MapEnv(base))
	for _, want := range []string{"REDELIVER_LOOKBACK", "REDELIVER_MAX_PER_PASS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}
