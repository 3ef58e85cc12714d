// Command posprobe measures how much absolute position information a CNN's
// features carry. Each subcommand lives in its own file and registers itself
// on rootCmd in an init function.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "posprobe",
	Short: "Measure the absolute position information in a CNN's features",
	Long: `posprobe reimplements "How Much Position Information Do Convolutional Neural
Networks Encode?" (Islam, Jia, Bruce, ICLR 2020): a frozen encoder yields
multi-scale features, a small trained readout predicts content-independent
position maps (H, V, G, HS, VS), and Spearman correlation (SPC) and mean
absolute error (MAE) say how much position the features carry.

Data (pretrained encoder weights, photos) is found through --data or the
POSPROBE_DATA environment variable, e.g. POSPROBE_DATA=../shared/data.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

var dataFlag string

func init() {
	rootCmd.PersistentFlags().StringVar(&dataFlag, "data", "", "data folder with weights/ and images/ (default $POSPROBE_DATA)")
}

// dataDir returns the data folder from --data or POSPROBE_DATA ("" if neither is set).
func dataDir() string {
	if dataFlag != "" {
		return dataFlag
	}
	return os.Getenv("POSPROBE_DATA")
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "posprobe:", err)
		os.Exit(1)
	}
}
