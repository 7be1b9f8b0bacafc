package githubapp

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ghr-dev/ghr/internal/config"
)

// Load resolves the App's credentials (env or SSM, once per container) and builds the App.
// cfg supplies the optional transport, pacer and clock; its AppID, PrivateKey and APIURL are
// filled from src, and so is its PointsPerMinute unless cfg sets one.
func Load(ctx context.Context, src config.GitHubApp, r config.ParameterReader, cfg Config) (*App, error) {
	idStr, err := src.AppID.Resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(strings.TrimSpace(idStr), 10, 64)
	if err != nil {
		// Never the value: a swapped id and key parameter would put the key in the logs.
		return nil, fmt.Errorf("github app id (%s) is not a number (%d characters)", src.AppID, len(idStr))
	}
	key, err := src.PrivateKey.Resolve(ctx, r)
	if err != nil {
		return nil, err
	}
	cfg.AppID, cfg.PrivateKey, cfg.APIURL = id, []byte(key), src.APIURL
	if cfg.PointsPerMinute == 0 {
		cfg.PointsPerMinute = src.PointsPerMinute
	}
	return New(cfg)
}
