package bench

import (
	"fmt"

	"github.com/roomd/roomd/internal/config"
)

// clusterConfig makes cfg the configuration of node i of a cluster of roomd processes on
// one database: the cluster section names the node ("bench-node-0", …); the rest of the
// configuration is the same on every node.
func clusterConfig(cfg *config.Config, i int) error {
	cfg.Cluster.Node = fmt.Sprintf("bench-node-%d", i)
	return nil
}
