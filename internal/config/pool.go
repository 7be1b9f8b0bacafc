package config

// Pool is the warm pool's configuration. It launches through the scale-up path, so it reads
// the same launch settings (TOKEN_KMS_KEY_ID, OFFERING_CACHE_TTL, ...).
type Pool struct {
	ScaleUp
}

// ReadPool reads and validates the pool function's environment.
func ReadPool(e *Env) (Pool, error) {
	p := Pool{ScaleUp: readLauncher(e)}
	return p, e.Err()
}
