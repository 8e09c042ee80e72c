package cli

import (
	"net"
	"testing"
)

func TestLinkAddr(t *testing.T) {
	for in, want := range map[string]string{"0.0.0.0:8002": "127.0.0.1:8002", "[::]:8002": "[::1]:8002",
		"127.0.0.1:8002": "127.0.0.1:8002", "192.168.1.5:80": "192.168.1.5:80"} {
		a, err := net.ResolveTCPAddr("tcp", in)
		if err != nil {
			t.Fatal(err)
		}
		if got := linkAddr(a); got != want {
			t.Errorf("linkAddr(%s) = %s, want %s", in, got, want)
		}
	}
}
