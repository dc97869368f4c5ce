module github.com/clmkit/clm

go 1.25
