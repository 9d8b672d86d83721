#!/usr/bin/env python3
"""Record a real capture of many short Multipath TCP connections from the Linux kernel.

For the benchmark's many-connection case (per-connection memory and time): two network
namespaces joined by two veth paths as in ../shared/tools/mptcp-capture, an MPTCP server, and a
client that opens CONNS connections (WORKERS at a time), each sending BYTES and closing. Every
connection gets a second subflow (MP_JOIN) and the server's ADD_ADDR when the kernel has time
to add them. Needs root, iproute2 with `ip mptcp`, tcpdump and ethtool.

  capture-many.py OUT.pcap [--conns 5000] [--bytes 2000] [--workers 16] [--snaplen 128]
"""
import argparse, os, signal, subprocess, sys, textwrap, time

C, S = "mptcp_many_cli", "mptcp_many_srv"
A = ["10.0.1.1", "10.0.1.2", "10.0.2.1", "10.0.2.2"]

SERVER = textwrap.dedent('''
import socket, sys, threading
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1024)
def serve(c):
    n = 0
    try:
        while True:
            d = c.recv(65536)
            if not d: break
            n += len(d)
        c.sendall(b"ok %d" % n)
    except OSError: pass
    c.close()
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
''')

CLIENT = textwrap.dedent('''
import socket, sys, threading
conns, size, workers = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
left = [conns]; lock = threading.Lock()
def work():
    while True:
        with lock:
            if left[0] == 0: return
            left[0] -= 1
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\\x01\\x00\\x00\\x00\\x05\\x00\\x00\\x00")
        s.connect(("10.0.1.2", 5201))
        s.sendall(b"m" * size); s.shutdown(socket.SHUT_WR)
        while s.recv(100): pass
        s.close()
ts = [threading.Thread(target=work) for _ in range(workers)]
[t.start() for t in ts]; [t.join() for t in ts]
''')

def sh(*args, check=True):
    return subprocess.run(list(args), check=check, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--conns", type=int, default=5000)
    ap.add_argument("--bytes", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=16)
    ap.add_argument("--snaplen", type=int, default=128)
    a = ap.parse_args()
    for ns in (C, S): sh("ip", "netns", "del", ns, check=False)
    try:
        for ns in (C, S): sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", "mc1", "netns", C, "type", "veth", "peer", "name", "ms1", "netns", S)
        sh("ip", "link", "add", "mc2", "netns", C, "type", "veth", "peer", "name", "ms2", "netns", S)
        for ns, dev, addr in ((C, "mc1", A[0]), (S, "ms1", A[1]), (C, "mc2", A[2]), (S, "ms2", A[3])):
            sh("ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
            sh("ip", "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off")
        for ns in (C, S):
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.mptcp.enabled=1")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_tw_reuse=1")
            sh("ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_local_port_range=10000 65000")
            sh("ip", "-n", ns, "mptcp", "limits", "set", "subflow", "4", "add_addr_accepted", "4")
        sh("ip", "-n", C, "mptcp", "endpoint", "add", A[2], "dev", "mc2", "id", "2", "subflow")
        sh("ip", "-n", S, "mptcp", "endpoint", "add", A[3], "dev", "ms2", "id", "5", "signal")
        out = os.path.abspath(a.out)
        tap = subprocess.Popen(["ip", "netns", "exec", C, "tcpdump", "-q", "-U", "-s", str(a.snaplen), "-w", out, "-i", "any", "tcp"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.5)
        srv = subprocess.Popen(["ip", "netns", "exec", S, sys.executable, "-c", SERVER])
        time.sleep(0.5)
        subprocess.run(["ip", "netns", "exec", C, sys.executable, "-c", CLIENT, str(a.conns), str(a.bytes), str(a.workers)], check=True, timeout=900)
        time.sleep(1.0)
        srv.kill()
        tap.send_signal(signal.SIGINT); tap.wait(timeout=10)
        print(out)
    finally:
        for ns in (C, S): sh("ip", "netns", "del", ns, check=False)

if __name__ == "__main__":
    main()
