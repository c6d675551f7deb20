package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/learnhub/analytics-service/ingest"
)

// kafkaBrokerFlag makes analyticsbench a Kafka broker (kfake with the
// firehose topics): it prints its listen addresses on one line of stdout
// and serves until stdin closes. The ingest group starts it as a child
// process so the broker's CPU is not counted as the pipeline's (a real
// Kafka runs elsewhere); on this machine it still shares the cores.
const kafkaBrokerFlag = "-kafka-broker"

// brokerProcess is a kfake broker in a child process.
type brokerProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// Addrs are the broker's listen addresses (host:port).
	Addrs []string
}

// startKafkaBroker starts a broker child and waits for its addresses.
func startKafkaBroker(ctx context.Context) (*brokerProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, kafkaBrokerFlag)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &brokerProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.close()
		return nil, fmt.Errorf("kafka broker child: no addresses: %w", err)
	}
	p.Addrs = strings.Split(strings.TrimSpace(line), ",")
	return p, nil
}

// cpu is the CPU time (user + system, every thread) the broker has used.
func (p *brokerProcess) cpu() (time.Duration, error) {
	return processCPUOf(p.cmd.Process.Pid)
}

// close stops the broker and waits for it.
func (p *brokerProcess) close() {
	_ = p.stdin.Close()
	_ = p.cmd.Wait()
}

// kafkaBrokerMain is the child's main.
func kafkaBrokerMain() {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(ingest.DefaultKafkaPartitions, ingest.DefaultKafkaTopic, ingest.DefaultKafkaDLQTopic))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kafka broker:", err)
		os.Exit(2)
	}
	defer c.Close()
	fmt.Println(strings.Join(c.ListenAddrs(), ","))
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin (or exits)
}

// processCPUOf reads the user + system CPU time of process pid from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s).
func processCPUOf(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields after the name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime: fields 14 and 15 of the line
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	const clockTicks = 100 // sysconf(_SC_CLK_TCK) on Linux
	return time.Duration(ticks) * time.Second / clockTicks, nil
}
