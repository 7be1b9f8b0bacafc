package awsproxy

import (
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// Every emulator test here shares one moto_server (motoserver.Shared): its start is most of
// each test's time.
func TestMain(m *testing.M) { motoserver.Main(m) }
