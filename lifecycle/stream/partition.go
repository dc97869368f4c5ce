package stream

// Partition returns the partition, from 0 to n-1, of a message keyed by
// key in a log of n partitions: the positive part of the key's murmur2
// hash modulo n, as Kafka's Java client and franz-go do by default for
// a keyed record. It returns 0 when n is below 1.
func Partition(key string, n int) int32 {
	if n < 1 {
		return 0
	}
	return int32(int64(murmur2(key)&0x7fffffff) % int64(n))
}

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed.
func murmur2(key string) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	n := len(key)
	h := uint32(seed) ^ uint32(n)
	i := 0
	for ; i+4 <= n; i += 4 {
		k := uint32(key[i]) | uint32(key[i+1])<<8 | uint32(key[i+2])<<16 | uint32(key[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch n - i {
	case 3:
		h ^= uint32(key[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(key[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(key[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
