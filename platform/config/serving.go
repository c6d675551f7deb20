package config

import (
	"fmt"
	"strconv"
)

// loadServingCaches reads the sizes of the results and token caches; 0
// turns one off.
func (c *Config) loadServingCaches(env func(k, def string) string) error {
	var err error
	if c.ResultCacheSize, err = sizeOrOff(env, "ANALYTICS_RESULT_CACHE_SIZE", DefaultResultCacheSize); err != nil {
		return err
	}
	if c.ResultCacheMaxAge, err = duration(env, "ANALYTICS_RESULT_CACHE_MAX_AGE", DefaultResultCacheMaxAge); err != nil {
		return err
	}
	c.TokenCacheSize, err = sizeOrOff(env, "ANALYTICS_TOKEN_CACHE_SIZE", DefaultTokenCacheSize)
	return err
}

// sizeOrOff reads a whole number of entries, 0 meaning off.
func sizeOrOff(env func(k, def string) string, key string, def int) (int, error) {
	raw := env(key, "")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, &Error{key, fmt.Sprintf("%q is not a whole number of entries; use 0 to turn the cache off", raw)}
	}
	return n, nil
}
