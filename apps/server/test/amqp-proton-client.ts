/**
 * The Python qpid-proton client of amqp-interop.e2e.spec.ts, kept as source text so the test can
 * write it next to its data. It uses proton's event-driven API (MessagingHandler with prefetch 0
 * and manual settlement) so every grant of credit and every outcome is the script's own.
 *
 * Usage: python3 script.py PORT SCENARIO; prints one JSON object with what it observed.
 * Each scenario ends the connection when done; a refused link or connection error ends it too.
 */
export const PROTON_CLIENT = String.raw`
import json, sys
from proton import Delivery, Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

PORT, SCENARIO = sys.argv[1], sys.argv[2]
URL = "amqp://127.0.0.1:%s" % PORT
BIG = bytes(i % 251 for i in range(300000))


class Scenario(MessagingHandler):
    """Base: manual credit and settlement; counts deliveries beyond the credit granted per link."""

    def __init__(self):
        super().__init__(prefetch=0, auto_accept=False, auto_settle=True)
        self.out = {"errors": []}
        self.granted = {}
        self.received = {}
        self.conns = []

    def connect(self, container, **kw):
        c = container.connect(URL, **kw)
        self.conns.append(c)
        return c

    def grant(self, link, n, drain=False):
        self.granted[link.name] = self.granted.get(link.name, 0) + n
        if drain:
            link.drain(n)
        else:
            link.flow(n)

    def note(self, event):
        name = event.receiver.name
        self.received[name] = self.received.get(name, 0) + 1
        if self.received[name] > self.granted.get(name, 0):
            self.out["errors"].append("%s: delivery beyond credit" % name)

    def finish(self):
        for c in self.conns:
            c.close()

    def fail(self, what, event):
        cond = event.link.remote_condition if event.link else event.connection.remote_condition
        self.out["errors"].append("%s: %s" % (what, cond and (cond.name, cond.description)))
        self.finish()

    def on_link_error(self, event):
        self.fail("link " + event.link.name, event)

    def on_connection_error(self, event):
        self.fail("connection", event)

    def on_transport_error(self, event):
        self.out["errors"].append("transport: %s" % event.transport.condition)


class SendReceive(Scenario):
    """Five messages with properties; credit 2, then a drain for the rest."""

    def on_start(self, event):
        self.conn = self.connect(event.container)
        self.snd = event.container.create_sender(self.conn, "proton-q", name="snd")
        self.sent = False
        self.accepted = 0
        self.out.update(first=[], drained=[], props=[])

    def on_sendable(self, event):
        if event.sender == self.snd and not self.sent:
            self.sent = True
            for i in range(5):
                self.snd.send(Message(body="m%d" % i, subject="s%d" % i, properties={"i": i}))

    def on_accepted(self, event):
        self.accepted += 1
        if self.accepted == 5:
            self.rcv = event.container.create_receiver(self.conn, "proton-q", name="rcv")
            self.grant(self.rcv, 2)

    def on_message(self, event):
        self.note(event)
        m = event.message
        first = len(self.out["first"]) < 2
        self.out["first" if first else "drained"].append(m.body)
        self.out["props"].append([m.subject, m.properties.get("i")])
        self.accept(event.delivery)
        if first and len(self.out["first"]) == 2:
            self.grant(self.rcv, 10, drain=True)

    def on_link_flow(self, event):
        # The drain is answered by a flow that leaves no credit, after what the queue had.
        if event.link == getattr(self, "rcv", None) and event.link.drain_mode and event.link.credit == 0:
            self.out["drain_answered_after"] = len(self.out["drained"])
            self.finish()


class Large(Scenario):
    """A 300 kB message sent in Apogee's 64 kB frames and received in proton's 16 kB frames."""

    def on_start(self, event):
        c = self.connect(event.container)
        self.rcv_conn = self.connect(event.container, max_frame_size=16384)
        self.snd = event.container.create_sender(c, "proton-big", name="big-snd")
        self.sent = False
        self.out.update(same=None, size=None)

    def on_sendable(self, event):
        if event.sender == self.snd and not self.sent:
            self.sent = True
            self.snd.send(Message(body=BIG))

    def on_accepted(self, event):
        self.rcv = event.container.create_receiver(self.rcv_conn, "proton-big", name="big-rcv")
        self.grant(self.rcv, 1)

    def on_message(self, event):
        self.note(event)
        self.out["same"] = event.message.body == BIG
        self.out["size"] = len(event.message.body)
        self.accept(event.delivery)
        self.finish()


class Dispositions(Scenario):
    """released and modified(delivery-failed) redeliver; rejected dead-letters and credit keeps flowing.

    One message is outstanding at a time, so redelivery cannot race ahead of other messages
    (proton may write a flow before the disposition that precedes it).
    """

    def on_start(self, event):
        self.conn = self.connect(event.container)
        self.snd = event.container.create_sender(self.conn, "proton-disp", name="disp-snd")
        self.to_send = ["d0"]
        self.accepted = 0
        self.out.update(steps=[], dlq=None)

    def on_sendable(self, event):
        self.send_pending()

    def send_pending(self):
        while self.to_send and self.snd.credit > 0:
            self.snd.send(Message(body=self.to_send.pop(0)))

    def on_accepted(self, event):
        if event.link != self.snd:
            return
        self.accepted += 1
        if self.accepted == 1:
            self.rcv = event.container.create_receiver(self.conn, "proton-disp", name="disp-rcv")
            self.grant(self.rcv, 1)
        elif self.accepted == 3:
            self.grant(self.rcv, 1)

    def on_message(self, event):
        self.note(event)
        m, d = event.message, event.delivery
        if event.receiver != self.rcv:
            self.out["dlq"] = [m.body, m.delivery_count]
            self.accept(d)
            return self.finish()
        step = len(self.out["steps"])
        self.out["steps"].append([m.body, m.delivery_count])
        if step == 0:
            self.release(d, delivered=False)
            self.grant(self.rcv, 1)
        elif step == 1:
            d.local.failed = True
            self.settle(d, Delivery.MODIFIED)
            self.grant(self.rcv, 1)
        elif step == 2:
            self.accept(d)
            self.to_send = ["d1", "d2"]
            self.send_pending()
        elif step == 3:
            self.reject(d)
            self.grant(self.rcv, 10)
        else:
            self.accept(d)
            dlq = event.container.create_receiver(self.conn, "$dlq/proton-disp", name="dlq-rcv")
            self.grant(dlq, 1)


class SameName(Scenario):
    """A sending and a receiving link with one name on one session (a link is named by name and role)."""

    def on_start(self, event):
        self.conn = self.connect(event.container)
        self.snd = event.container.create_sender(self.conn, "proton-same", name="same")
        self.rcv = event.container.create_receiver(self.conn, "proton-same", name="same")
        self.sent = False
        self.out.update(got=None)

    def on_link_opened(self, event):
        if event.link == self.rcv:
            self.grant(self.rcv, 1)

    def on_sendable(self, event):
        if event.sender == self.snd and not self.sent:
            self.sent = True
            self.snd.send(Message(body="same-name"))

    def on_message(self, event):
        self.note(event)
        self.out["got"] = event.message.body
        self.accept(event.delivery)
        self.finish()


handler = {"send-receive": SendReceive, "large": Large, "dispositions": Dispositions, "same-name": SameName}[SCENARIO]()
Container(handler).run()
print(json.dumps(handler.out, sort_keys=True))
`;
