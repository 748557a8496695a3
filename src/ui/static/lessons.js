// The guided explanation shown beside the live walk, one per forwarding
// mode: what the director changes in a packet, what a real server needs for
// that to work, and why the mode is built that way.
export const LESSONS = {
  nat: {
    title: 'LVS-NAT: the director rewrites addresses, both ways',
    body: `
<p>The client only knows the virtual address (the <b>VIP</b>). In NAT mode the director
is the real servers' router: every packet of the connection crosses it, in both directions.</p>
<h4>What the director rewrites</h4>
<ul>
<li><b>Requests:</b> the IPv4 <b>destination address</b> becomes the chosen real server's
address, and the <b>destination port</b> its port when it listens on another one. Both
checksums follow: the IP header checksum covers the address, and the TCP or UDP checksum
covers a pseudo-header that holds both addresses, so each is patched with the difference
(no full recomputation).</li>
<li><b>Replies:</b> the real server answers to the client's address; the director puts the
VIP (and the service port) back as the <b>source</b>, so the client sees an answer from the
address it called. Both ways the packet is forwarded, so its TTL drops by one (as the kernel's
IPVS does).</li>
</ul>
<h4>What a real server needs</h4>
<ul>
<li>Its default gateway (or at least its route to the clients) must be the director. If a
reply went another way it would leave with the real server's own address, and the client,
which never spoke to that address, would throw it away.</li>
<li>Nothing else: no VIP, no ARP tricks. The real servers can sit on a private network the
clients cannot reach.</li>
</ul>
<h4>With IPv6</h4>
<p>The same rewrite with 128-bit addresses: the IPv6 header has no checksum of its own, so
only the TCP or UDP checksum (over the IPv6 pseudo-header) is patched, and the hop limit
takes the TTL's place. The director finds the real server's MAC with neighbour discovery (a
solicitation to its solicited-node group, answered by an advertisement) instead of ARP.</p>
<h4>Why</h4>
<p>Because it sees both directions, the director can remap ports and hide the servers. The
price is that replies, usually most of the bytes, all go through it. Step through a
connection below: the received frame shows the VIP, the sent frame the real server, with
the rewritten fields marked.</p>`,
  },
  dr: {
    title: 'LVS-DR: the director changes one MAC address',
    body: `
<p>In direct routing the director and the real servers share one Ethernet segment. The
director picks a real server and hands it the packet <b>exactly as it arrived</b>, only
addressed at the link layer to that server.</p>
<h4>What the director rewrites</h4>
<ul>
<li>The Ethernet <b>destination MAC</b> becomes the real server's MAC. That is all: the IP
destination is still the VIP and the ports are untouched; only the TTL drops by one, as on any
hop (and the IP header checksum with it).</li>
<li>The source MAC becomes the director's own, as on any hop through a host; the walk marks
it as a hop change, not as DR's rewrite.</li>
</ul>
<h4>What a real server needs</h4>
<ul>
<li>The VIP on an interface that does not speak ARP for it (here <code>lo</code>), so it
accepts packets sent to the VIP as its own.</li>
<li>It must stay silent about the VIP in ARP (<code>arp_ignore=1</code>,
<code>arp_announce=2</code>); otherwise the router could learn a real server's MAC for the
VIP and send clients straight to it, past the director.</li>
<li>A route to the clients through the router, not back through the director.</li>
<li>A link-layer path to the director: a MAC rewrite cannot cross a router.</li>
<li>With IPv6: the VIP on <code>lo</code> as a /128. Linux answers neighbour solicitations
only for addresses of the interface asked, so there is no ARP setting to change; the
director finds the real server by neighbour discovery, and only the hop limit changes in
the IPv6 header.</li>
</ul>
<h4>Why</h4>
<p>The real server answers from the VIP directly to the client, so replies never touch the
director: it carries only the requests. It cannot remap ports, since it never looks past
the Ethernet header to change anything.</p>`,
  },
  tun: {
    title: 'LVS-TUN: the director wraps the packet in another one',
    body: `
<p>Tunnelling keeps DR's trick (the real server answers the client itself) but lets the real
servers live anywhere an IP packet can be routed, on other subnets or other sites.</p>
<h4>What the director rewrites</h4>
<ul>
<li>Nothing inside the client's packet. It <b>adds a new IPv4 header in front</b> (IP-in-IP,
protocol 4): from the director's address to the real server's own address. The inner packet
still reads client → VIP, with its checksums as they were.</li>
<li>The inner TTL drops by one first; the outer header copies the inner TOS, the don't-fragment bit and that TTL. The packet grows
by 20 bytes: a full-size packet marked don't-fragment no longer fits the link, and the
director answers the client with "fragmentation needed" and the size that fits.</li>
</ul>
<h4>What a real server needs</h4>
<ul>
<li>Something that takes the outer header off: the kernel's <code>ipip</code> tunnel device, or
(in this lab, whose kernel has no ipip) a small helper on a raw socket.</li>
<li>The VIP held locally without answering ARP for it, as in DR, and reverse-path filtering
relaxed on the interface where decapsulated packets appear.</li>
<li>With IPv6 the added header is an IPv6 one (IPv6-in-IPv6, next header 41, 40 bytes; the
kernel's <code>ip6tnl</code> takes it off), copying the inner traffic class and hop limit;
a packet that no longer fits is answered with ICMPv6 "packet too big".</li>
<li>A route to the clients that does not go back through the director.</li>
</ul>
<h4>Why</h4>
<p>The outer header is routed like any packet, so the real servers need no shared segment
with the director, and replies still go straight to the client from the VIP.</p>`,
  },
};
