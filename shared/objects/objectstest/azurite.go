package objectstest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// AzuriteAccount and AzuriteKey are the well-known development account of
// Azurite, the Azure Storage emulator (published in its README; not a secret).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// Azurite is a running Azure Blob Storage emulator.
type Azurite struct {
	// ConnectionString reaches the emulator with the development account.
	ConnectionString string
	// ServiceURL is the blob endpoint, http://127.0.0.1:PORT/devstoreaccount1.
	ServiceURL string
	// Client is the real Azure SDK client pointed at the emulator.
	Client *azblob.Client
}

// StartAzurite starts Azurite's blob service (the npm package azurite, binary
// azurite-blob) on a free loopback port with its data in a temporary
// directory, and stops it when the test ends. AZURITE_BLOB_HOST=host:port
// uses an emulator that is already running instead.
//
// When neither is available the test is skipped with a message naming the
// emulator, or fails when CI=true (.ci/run installs it).
func StartAzurite(t testing.TB) *Azurite {
	t.Helper()
	hostPort := os.Getenv("AZURITE_BLOB_HOST")
	if hostPort == "" {
		bin, err := exec.LookPath("azurite-blob")
		if err != nil {
			msg := "Azurite (the Azure Storage emulator) is not installed: npm install -g azurite"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
		port, err := freePort()
		if err != nil {
			t.Fatalf("azurite: free port: %v", err)
		}
		// Data on disk in a temporary directory (the large-object test
		// writes more than the in-memory extent store should hold).
		dir := t.TempDir()
		cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
			"--location", dir, "--silent", "--skipApiVersionCheck", "--loose")
		cmd.Dir = dir // Azurite writes its debug and metadata files to the working directory too
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start azurite-blob: %v", err)
		}
		t.Cleanup(func() {
			// Node may start children: stop the whole group.
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		})
		hostPort = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if err := waitTCP(hostPort, 60*time.Second); err != nil {
			t.Fatalf("azurite-blob did not start on %s: %v", hostPort, err)
		}
	}
	a := &Azurite{
		ServiceURL: fmt.Sprintf("http://%s/%s", hostPort, AzuriteAccount),
	}
	a.ConnectionString = fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		AzuriteAccount, AzuriteKey, a.ServiceURL)
	client, err := azblob.NewClientFromConnectionString(a.ConnectionString, nil)
	if err != nil {
		t.Fatalf("azblob client for Azurite: %v", err)
	}
	a.Client = client
	return a
}

// CreateContainer creates a container and returns its name.
func (a *Azurite) CreateContainer(t testing.TB, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := a.Client.CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("create Azurite container %s: %v", name, err)
	}
	return name
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitTCP(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
