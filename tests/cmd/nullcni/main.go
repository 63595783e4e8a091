// Command nullcni is a CNI plugin for the CRI tests. containerd's CRI plugin
// wants every pod with its own network namespace to come back from CNI with
// an interface that has an address, but the tests must not touch the host's
// network. nullcni therefore builds a veth pair whose two ends both stay in
// the pod's namespace: the pod gets a working eth0 with an address, and
// nothing is bridged, routed or NATed on the host.
//
// The same binary serves the "loopback" network that containerd always adds:
// installed under that name (or given type "loopback"), it only brings lo up.
//
// It speaks CNI 0.3.0 to 1.0.0 and needs nsenter (util-linux) and ip
// (iproute2) on the host.
package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// peerName is the far end of the veth pair; it lives next to CNI_IFNAME in
// the pod's namespace, where no other interface uses the name.
const peerName = "nullpeer0"

var supportedVersions = []string{"0.3.0", "0.3.1", "0.4.0", "1.0.0"}

// netConf is the part of the network configuration nullcni reads.
type netConf struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	// LogFile, when set, gets one line per call, to see what the engine asked.
	LogFile string `json:"logFile"`
}

type request struct {
	command     string
	containerID string
	netns       string
	ifName      string
	conf        netConf
}

func main() {
	req, err := readRequest()
	if err != nil {
		fail("", "bad CNI request", err)
	}
	req.log()
	switch req.command {
	case "VERSION":
		writeJSON(map[string]any{"cniVersion": "1.0.0", "supportedVersions": supportedVersions})
	case "ADD":
		result, err := req.add()
		if err != nil {
			fail(req.conf.CNIVersion, "nullcni ADD failed", err)
		}
		writeJSON(result)
	case "DEL":
		req.del()
	case "CHECK", "GC", "STATUS":
		// Nothing is kept outside the pod's namespace, so there is nothing to check.
	default:
		fail(req.conf.CNIVersion, "unknown CNI_COMMAND", fmt.Errorf("%q", req.command))
	}
}

func readRequest() (*request, error) {
	req := &request{
		command:     os.Getenv("CNI_COMMAND"),
		containerID: os.Getenv("CNI_CONTAINERID"),
		netns:       os.Getenv("CNI_NETNS"),
		ifName:      os.Getenv("CNI_IFNAME"),
	}
	if req.command == "VERSION" {
		return req, nil
	}
	data, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read network configuration from stdin: %w", err)
	}
	if err := json.Unmarshal(data, &req.conf); err != nil {
		return nil, fmt.Errorf("parse network configuration: %w", err)
	}
	if req.conf.Type == "" {
		req.conf.Type = filepath.Base(os.Args[0])
	}
	return req, nil
}

func (r *request) isLoopback() bool { return r.conf.Type == "loopback" }

func (r *request) add() (map[string]any, error) {
	if r.netns == "" {
		return nil, fmt.Errorf("CNI_NETNS is empty: nullcni only configures pods with their own network namespace")
	}
	if r.isLoopback() {
		if err := ipBatch(r.netns, "link set lo up\n"); err != nil {
			return nil, err
		}
		return r.result("lo", "00:00:00:00:00:00", "127.0.0.1/8"), nil
	}
	if r.ifName == "" {
		return nil, fmt.Errorf("CNI_IFNAME is empty")
	}
	address := addressFor(r.containerID)
	commands := fmt.Sprintf("link add %[1]s type veth peer name %[2]s\naddr add %[3]s dev %[1]s\nlink set %[2]s up\nlink set %[1]s up\n",
		r.ifName, peerName, address)
	if err := ipBatch(r.netns, commands); err != nil {
		return nil, err
	}
	mac, err := linkAddress(r.netns, r.ifName)
	if err != nil {
		return nil, err
	}
	return r.result(r.ifName, mac, address), nil
}

// del removes the pair; a namespace that is already gone took it along.
func (r *request) del() {
	if r.isLoopback() || r.netns == "" || r.ifName == "" {
		return
	}
	if _, err := os.Stat(r.netns); err != nil {
		return
	}
	_ = ipBatch(r.netns, fmt.Sprintf("link del %s\n", r.ifName))
}

// result is the ADD result in the configuration's CNI version: before 1.0.0
// every IP carries its family in "version".
func (r *request) result(ifName, mac, address string) map[string]any {
	ip := map[string]any{"interface": 0, "address": address}
	if r.conf.CNIVersion != "1.0.0" {
		ip["version"] = "4"
	}
	return map[string]any{
		"cniVersion": r.conf.CNIVersion,
		"interfaces": []map[string]any{{"name": ifName, "mac": mac, "sandbox": r.netns}},
		"ips":        []map[string]any{ip},
		"dns":        map[string]any{},
	}
}

// addressFor derives the pod's address from its sandbox ID, so that no
// allocation state has to be kept; pods cannot reach each other anyway.
func addressFor(containerID string) string {
	h := fnv.New32a()
	h.Write([]byte(containerID))
	sum := h.Sum32()
	return fmt.Sprintf("10.99.%d.%d/16", (sum>>8)%256, 2+sum%252)
}

func ipBatch(netns, commands string) error {
	cmd := exec.Command(tool("nsenter"), "--net="+netns, tool("ip"), "-batch", "-")
	cmd.Stdin = strings.NewReader(commands)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip -batch in %s: %w: %s", netns, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func linkAddress(netns, ifName string) (string, error) {
	out, err := exec.Command(tool("nsenter"), "--net="+netns, tool("ip"), "-j", "link", "show", "dev", ifName).Output()
	if err != nil {
		return "", fmt.Errorf("ip link show %s in %s: %w", ifName, netns, err)
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		return "", fmt.Errorf("parse ip -j link show %s: %q", ifName, out)
	}
	return links[0].Address, nil
}

// tool finds a host tool even when the engine runs plugins with a short PATH.
func tool(name string) string {
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	return name
}

func (r *request) log() {
	if r.conf.LogFile == "" {
		return
	}
	f, err := os.OpenFile(r.conf.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s type=%s netns=%s ifname=%s id=%s\n",
		time.Now().Format(time.RFC3339Nano), r.command, r.conf.Type, r.netns, r.ifName, r.containerID)
}

func writeJSON(v any) {
	if err := json.NewEncoder(os.Stdout).Encode(v); err != nil {
		os.Exit(1)
	}
}

// fail reports an error the way CNI wants it: JSON on stdout, exit 1.
// Codes from 100 up are the plugin's own.
func fail(version, msg string, err error) {
	if version == "" {
		version = "1.0.0"
	}
	writeJSON(map[string]any{"cniVersion": version, "code": 100, "msg": msg, "details": err.Error()})
	os.Exit(1)
}
