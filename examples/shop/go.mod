module github.com/clmkit/clm/examples/shop

go 1.25

require (
	github.com/clmkit/clm v0.0.0
	github.com/google/go-cmp v0.7.0
	github.com/stretchr/testify v1.12.1
)

require go.yaml.in/yaml/v3 v3.0.5 // indirect

replace github.com/clmkit/clm => ../..
