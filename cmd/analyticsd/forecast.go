package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/learnhub/analytics-service/anomaly"
	"github.com/learnhub/analytics-service/platform/config"
	"github.com/learnhub/analytics-service/platform/errs"
)

const forecastUsage = "use: forecast --horizon H [--season S[,S2]] [--grain hour|day|week|month] [--model NAME] [--level 80,95] FILE.csv (- for stdin)"

// runForecast is `analyticsd forecast`: the service's forecasters on a
// long-format CSV (unique_id,ds,y), one forecast per series, written as
// CSV unique_id,step,forecast,lo80,hi80,lo95,hi95 to stdout. Seasons come
// from --season, else --grain, else the timestamps' spacing, else the
// data (integer steps). Every input or usage problem is a *config.Error:
// exit 2 with the file and line.
func runForecast(args []string, stdin io.Reader, stdout io.Writer) error {
	fl := flag.NewFlagSet("forecast", flag.ContinueOnError)
	fl.SetOutput(io.Discard)
	horizon := fl.Int("horizon", 0, "steps to forecast (1…1000)")
	season := fl.String("season", "", "seasonal period(s) in steps, e.g. 24 or 24,168")
	grain := fl.String("grain", "", "time grain giving the seasons: hour (24,168), day (7), week (52), month (12)")
	model := fl.String("model", anomaly.DefaultModel, "forecaster: "+strings.Join(anomaly.Models(), ", "))
	levelList := fl.String("level", "80,95", "interval levels in percent")
	if err := fl.Parse(args); err != nil {
		return &config.Error{Setting: "forecast flags", Msg: err.Error() + "; " + forecastUsage}
	}
	if fl.NArg() != 1 {
		return &config.Error{Setting: "forecast", Msg: fmt.Sprintf("want exactly one input file, got %d; %s", fl.NArg(), forecastUsage)}
	}
	if *horizon < 1 || *horizon > anomaly.MaxHorizon {
		return &config.Error{Setting: "--horizon", Msg: fmt.Sprintf("%d: use 1…%d steps", *horizon, anomaly.MaxHorizon)}
	}
	if !slices.Contains(anomaly.Models(), *model) {
		return &config.Error{Setting: "--model", Msg: fmt.Sprintf("%q: use one of %s", *model, strings.Join(anomaly.Models(), ", "))}
	}
	levels, err := anomaly.ParseLevels(*levelList)
	if err != nil {
		return &config.Error{Setting: "--level", Msg: errs.PublicMessage(err)}
	}
	var fixed []int
	if *season != "" {
		for _, part := range strings.Split(*season, ",") {
			s, err := strconv.Atoi(strings.TrimSpace(part))
			if err != nil || s < 2 {
				return &config.Error{Setting: "--season", Msg: fmt.Sprintf("%q: a seasonal period is a whole number of steps ≥ 2, e.g. 24 or 24,168", part)}
			}
			fixed = append(fixed, s)
		}
	} else if *grain != "" {
		if fixed = anomaly.SeasonsForGrain(*grain); fixed == nil {
			return &config.Error{Setting: "--grain", Msg: fmt.Sprintf("%q: use hour, day, week or month", *grain)}
		}
	}
	path := fl.Arg(0)
	in := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return &config.Error{Setting: path, Msg: "cannot open: " + err.Error()}
		}
		defer f.Close()
		in = f
	}
	series, err := anomaly.ReadLong(bufio.NewReader(in))
	if err != nil {
		return &config.Error{Setting: path, Msg: errs.PublicMessage(err)}
	}
	fcs, err := forecastAll(series, *model, *horizon, levels, fixed)
	if err != nil {
		return &config.Error{Setting: path, Msg: err.Error()}
	}
	ids := make([]string, len(series))
	for i, s := range series {
		ids[i] = s.ID
	}
	w := bufio.NewWriter(stdout)
	if err := anomaly.WriteForecasts(w, ids, fcs, levels); err != nil {
		return err
	}
	return w.Flush()
}

// forecastAll forecasts every series on GOMAXPROCS workers; the output
// order is the input order whatever the scheduling. The first series that
// cannot be forecast (too short for the model) fails the run, named with
// the line of its first row.
func forecastAll(series []anomaly.Series, model string, h int, levels []float64, fixed []int) ([]anomaly.Forecast, error) {
	fcs := make([]anomaly.Forecast, len(series))
	errsBySeries := make([]error, len(series))
	next := make(chan int)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := series[i]
				seasons := fixed
				if seasons == nil {
					if g := s.Grain(); g != "" {
						seasons = anomaly.SeasonsForGrain(g)
					} else {
						seasons = anomaly.DetectSeasons(s.Y)
					}
				}
				fcs[i], errsBySeries[i] = anomaly.Run(model, s.Y, h, levels, anomaly.Options{Seasons: seasons})
			}
		}()
	}
	for i := range series {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errsBySeries {
		if err != nil {
			return nil, fmt.Errorf("series %q (from line %d): %s", series[i].ID, series[i].Line, errs.PublicMessage(err))
		}
	}
	return fcs, nil
}
