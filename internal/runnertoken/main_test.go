package runnertoken_test

import (
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// The emulator tests here share one moto_server (motoserver.Shared): its start is most of
// each test's time.
func TestMain(m *testing.M) { motoserver.Main(m) }
