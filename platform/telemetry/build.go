package telemetry

import "github.com/prometheus/client_golang/prometheus"

// RegisterBuildInfo exports analytics_build_info{version, commit, goversion}
// = 1, the gauge dashboards join on to show which build each replica runs.
func (m *Metrics) RegisterBuildInfo(version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "analytics", Name: "build_info",
		Help: "The running build: version, VCS commit and Go version; always 1.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	m.Registry.MustRegister(g)
}
