package data

import (
	"os"
	"path/filepath"
)

// DirEnvVar names the environment variable that sets the data folder.
const DirEnvVar = "IAGEN_DATA_DIR"

// Dir returns the data folder: dir when not empty, else $IAGEN_DATA_DIR, else "iagen/data"
// under the user's cache folder (~/.cache/iagen/data on Linux).
func Dir(dir string) string {
	if dir != "" {
		return dir
	}
	if d := os.Getenv(DirEnvVar); d != "" {
		return d
	}
	if c, err := os.UserCacheDir(); err == nil {
		return filepath.Join(c, "iagen", "data")
	}
	return filepath.Join(os.TempDir(), "iagen-data")
}
