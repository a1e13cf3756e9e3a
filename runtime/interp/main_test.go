package interp

import (
	"os"
	"testing"

	"github.com/kamal-go/kamal/internal/testenv"
)

// TestMain keeps the flows' clone directories out of the real TMPDIR.
func TestMain(m *testing.M) { os.Exit(testenv.Run(m)) }
