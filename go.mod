module github.com/kontor-billing/kontor

go 1.26

require (
	github.com/beevik/etree v1.8.1
	github.com/shopspring/decimal v1.6.0
	github.com/spf13/cobra v1.10.2
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
