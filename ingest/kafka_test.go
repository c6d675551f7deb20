package ingest_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/learnhub/analytics-service/ingest"
	"github.com/learnhub/analytics-service/store"
)

const kafkaPartitions = 3

// startKafka runs a kfake broker with the firehose topics.
func startKafka(t *testing.T) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1),
		kfake.SeedTopics(kafkaPartitions, ingest.DefaultKafkaTopic, ingest.DefaultKafkaDLQTopic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// closedAddr is a local address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// topicMessages sums the end offsets of a topic's partitions.
func topicMessages(t *testing.T, broker, topic string) int64 {
	t.Helper()
	var total int64
	for p := range kafkaPartitions {
		conn, err := kafka.DialLeader(context.Background(), "tcp", broker, topic, p)
		require.NoError(t, err)
		off, err := conn.ReadLastOffset()
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		total += off
	}
	return total
}

func kafkaSink(t *testing.T, brokers []string, db *store.DB) *ingest.KafkaConsumer {
	t.Helper()
	c, err := ingest.NewKafkaConsumer(nil, db, nil, nil, ingest.KafkaConsumerConfig{
		Kafka: ingest.KafkaConfig{Brokers: brokers}, Sink: fastSink})
	require.NoError(t, err)
	return c
}

func TestKafkaDuplicatesAndDeadLetters(t *testing.T) {
	brokers := startKafka(t)
	b, js, db, _ := firehose(t)
	const n = 200
	now := time.Now().UTC()
	tenants := []string{"k-one", "k-two"}
	for i := range n {
		tenant := tenants[i%2]
		ev := envelope(tenant, fmt.Sprintf("k-%d", i), "lesson.completed", now.Add(-time.Duration(i)*time.Second), nil)
		publish(t, js, ingest.Subject(tenant, "lesson.completed"), ev, "")
		if i%4 == 0 {
			publish(t, js, ingest.Subject(tenant, "lesson.completed"), ev, "") // a duplicate reaching Kafka
		}
	}
	bad := malformed("k-one", now)
	for _, m := range bad {
		publish(t, js, m.subject, m.data, "")
	}

	bridge, err := ingest.NewKafkaBridge(b, nil, nil, ingest.BridgeConfig{Kafka: ingest.KafkaConfig{Brokers: brokers}})
	require.NoError(t, err)
	stopBridge := start(t, bridge)
	stopSink := start(t, kafkaSink(t, brokers, db))

	eventually(t, testTimeout, func() bool {
		return countEvents(t, db, "k-one").final == n/2 && countEvents(t, db, "k-two").final == n/2 &&
			countDeadLetters(t, db, "k-one") == uint64(len(bad))
	}, "events and dead letters through Kafka")
	require.NoError(t, stopSink())
	require.NoError(t, stopBridge())
	for _, tenant := range tenants {
		got := countEvents(t, db, tenant)
		assert.Equal(t, uint64(n/2), got.final, tenant)
		assert.Equal(t, uint64(n/2), got.distinct, tenant)
	}
	assert.Equal(t, int64(len(bad)), topicMessages(t, brokers[0], ingest.DefaultKafkaDLQTopic))
	assert.Equal(t, int64(n+n/4+len(bad)), topicMessages(t, brokers[0], ingest.DefaultKafkaTopic), "the bridge forwards everything once")
	info := consumerInfo(t, js, ingest.DefaultBridgeDurable)
	assert.Equal(t, 0, info.NumAckPending)
	assert.Equal(t, uint64(0), info.NumPending)
}

func TestKafkaUnavailable(t *testing.T) {
	b, js, db, _ := firehose(t)
	const tenant, n = "k-down", 100
	now := time.Now().UTC()
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "user.login"), envelope(tenant, fmt.Sprintf("d-%d", i), "user.login", now, nil), "")
	}
	consumer := ingest.ConsumerConfig{AckWait: time.Second}
	m := ingest.NewMetrics(nil)
	down, err := ingest.NewKafkaBridge(b, m, nil, ingest.BridgeConfig{Consumer: consumer,
		Kafka: ingest.KafkaConfig{Brokers: []string{closedAddr(t)}, WriteTimeout: time.Second},
		Retry: ingest.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}})
	require.NoError(t, err)
	stopDown := start(t, down)
	eventually(t, testTimeout, func() bool { return testutil.ToFloat64(m.Retries.WithLabelValues("kafka")) >= 3 }, "Kafka writes retried")
	require.NoError(t, stopDown())
	info := consumerInfo(t, js, ingest.DefaultBridgeDurable)
	assert.Equal(t, uint64(0), info.AckFloor.Stream, "nothing acknowledged while Kafka was unreachable")
	assert.Equal(t, n, info.NumAckPending)

	// Kafka is back: the unacknowledged messages are redelivered and arrive.
	brokers := startKafka(t)
	up, err := ingest.NewKafkaBridge(b, nil, nil, ingest.BridgeConfig{Consumer: consumer, Kafka: ingest.KafkaConfig{Brokers: brokers}})
	require.NoError(t, err)
	stopUp := start(t, up)
	stopSink := start(t, kafkaSink(t, brokers, db))
	eventually(t, testTimeout, func() bool { return countEvents(t, db, tenant).final == n }, "all events arrived after the outage")
	require.NoError(t, stopSink())
	require.NoError(t, stopUp())
	got := countEvents(t, db, tenant)
	assert.Equal(t, uint64(n), got.distinct)
	info = consumerInfo(t, js, ingest.DefaultBridgeDurable)
	assert.Equal(t, uint64(n), info.AckFloor.Stream)
	assert.Positive(t, info.NumRedelivered+int(info.Delivered.Consumer)-n, "the messages were delivered again")
}

func TestKafkaSinkStopBetweenInsertAndCommit(t *testing.T) {
	brokers := startKafka(t)
	b, js, db, fb := firehose(t)
	const tenant, n = "k-crash", 150
	now := time.Now().UTC()
	for i := range n {
		publish(t, js, ingest.Subject(tenant, "video.watched"), envelope(tenant, fmt.Sprintf("v-%d", i), "video.watched", now, nil), "")
	}
	bridge, err := ingest.NewKafkaBridge(b, nil, nil, ingest.BridgeConfig{Kafka: ingest.KafkaConfig{Brokers: brokers}})
	require.NoError(t, err)
	start(t, bridge)
	eventually(t, testTimeout, func() bool {
		return topicMessages(t, brokers[0], ingest.DefaultKafkaTopic) == n
	}, "bridged")

	runUntilInsert(t, fb, kafkaSink(t, brokers, db))
	inserted := countEvents(t, db, tenant).final
	require.Positive(t, inserted)

	stop := start(t, kafkaSink(t, brokers, db))
	eventually(t, testTimeout, func() bool { return countEvents(t, db, tenant).final == n }, "all events after restart")
	require.NoError(t, stop())
	got := countEvents(t, db, tenant)
	assert.Equal(t, uint64(n), got.distinct)
	assert.Equal(t, uint64(n), got.final)
}
