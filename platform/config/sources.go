package config

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// ConfigFileSetting names the configuration file: a file of KEY=VALUE lines
// (the format of an env file: blank lines and lines starting with # are
// skipped, a value may be quoted) holding any ANALYTICS_* setting.
const ConfigFileSetting = "ANALYTICS_CONFIG_FILE"

// sources layers where a setting's value may come from, highest first:
// the environment, then KEY_FILE (the value is the content of that file,
// trailing newline removed — how orchestrators hand over secrets), then the
// configuration file named by --config or ANALYTICS_CONFIG_FILE. Flags still
// win over all of them. It returns the remaining arguments (without
// --config) and a getenv that reads the layers.
func sources(args []string, getenv func(string) string) ([]string, func(string) string, error) {
	path := strings.TrimSpace(getenv(ConfigFileSetting))
	rest := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--config" || a == "-config":
			if i+1 >= len(args) {
				return nil, nil, &Error{"--config", "needs a file path"}
			}
			path = args[i+1]
			i++
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			path = a[strings.IndexByte(a, '=')+1:]
		default:
			rest = append(rest, a)
		}
	}
	file := map[string]string{}
	if path != "" {
		var err error
		if file, err = readConfigFile(path); err != nil {
			return nil, nil, err
		}
	}
	var ferr error
	get := func(k string) string {
		v := getenv(k)
		fromFile := strings.TrimSpace(getenv(k + "_FILE"))
		switch {
		case fromFile != "" && strings.TrimSpace(v) != "":
			if ferr == nil {
				ferr = &Error{k, "is set both directly and as " + k + "_FILE; set only one"}
			}
		case fromFile != "":
			b, err := os.ReadFile(fromFile)
			if err != nil {
				if ferr == nil {
					ferr = &Error{k + "_FILE", fmt.Sprintf("cannot read %s: %v", fromFile, err)}
				}
				return ""
			}
			return strings.TrimRight(string(b), "\r\n")
		case strings.TrimSpace(v) == "":
			return file[k]
		}
		return v
	}
	// Every known setting is read once here, so a conflict or an unreadable
	// _FILE is reported even for settings the command does not use.
	for _, s := range Settings {
		get(s.Env)
	}
	if ferr != nil {
		return nil, nil, ferr
	}
	return rest, get, nil
}

// readConfigFile parses a KEY=VALUE file; an unknown ANALYTICS_* key is an
// error (a typo would otherwise be silently ignored).
func readConfigFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{"--config", fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	known := map[string]bool{}
	for _, s := range Settings {
		known[s.Env] = true
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, &Error{"--config", fmt.Sprintf("%s:%d: want KEY=VALUE", path, n)}
		}
		if !known[k] {
			return nil, &Error{"--config", fmt.Sprintf("%s:%d: unknown setting %s; see the README's configuration table", path, n, k)}
		}
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, sc.Err()
}
