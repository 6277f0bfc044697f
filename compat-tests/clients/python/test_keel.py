"""keel through redis-py: pytest tests that talk to a running server on 127.0.0.1:$KEEL_PORT.

compat-tests/tests/clients.rs starts keel in-process and runs this file with the venv that
scripts/setup-clients makes:

    KEEL_PORT=6379 target/client-venv/bin/python -m pytest -q compat-tests/clients/python

Every expectation holds on a real redis-server 7.0 too (run the file against one to check them). Each
test starts from FLUSHALL, and tests that change configuration parameters set them back. The `r`
fixture runs every general test twice: once over RESP2 and once over RESP3 (redis-py's
`protocol=3`, which negotiates with HELLO 3).
"""

import os
import re
import time

import pytest
import redis
from redis.exceptions import ResponseError

HOST = "127.0.0.1"


def keel_port():
    """The port of the server under test, from KEEL_PORT (the suite cannot run without it)."""
    port = os.environ.get("KEEL_PORT")
    if not port:
        pytest.fail("KEEL_PORT is not set: it must name the port of the server under test")
    return int(port)


def connect(protocol=2, decode=True, **kwargs):
    """A new client of the server under test."""
    return redis.Redis(
        host=HOST,
        port=keel_port(),
        protocol=protocol,
        decode_responses=decode,
        socket_timeout=10,
        **kwargs,
    )


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def protocol(request):
    return request.param


@pytest.fixture
def r(protocol):
    """A client on database 0 of a freshly flushed server, over RESP2 and then RESP3."""
    client = connect(protocol)
    client.flushall()
    yield client
    client.close()


def assert_error(message, call, *args, **kwargs):
    """Asserts that the call fails with a server error whose text (redis-py drops `ERR `) is exact."""
    with pytest.raises(ResponseError) as info:
        call(*args, **kwargs)
    assert type(info.value) is ResponseError
    assert str(info.value) == message


# --- strings --------------------------------------------------------------------------------------


def test_set_and_get(r):
    assert r.set("k", "v1") is True
    assert r.get("k") == "v1"
    assert r.get("missing") is None
    assert r.strlen("k") == 2
    assert r.strlen("missing") == 0


def test_set_nx_xx(r):
    assert r.set("k", "v1", nx=True) is True
    assert r.set("k", "v2", nx=True) is None
    assert r.get("k") == "v1"
    assert r.set("k", "v3", xx=True) is True
    assert r.set("missing", "v", xx=True) is None
    assert r.exists("missing") == 0
    assert r.get("k") == "v3"
    assert r.setnx("k", "v4") is False
    assert r.setnx("other", "v") is True


def test_set_get_option(r):
    assert r.set("k", "old", get=True) is None
    assert r.set("k", "new", get=True) == "old"
    assert r.get("k") == "new"
    assert r.getset("k", "newer") == "new"
    assert r.get("k") == "newer"


def test_set_ex_px_keepttl(r):
    assert r.set("k", "v", ex=100) is True
    assert r.ttl("k") == 100
    assert r.set("k", "v", px=100_000) is True
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.set("k", "kept", keepttl=True) is True
    assert r.get("k") == "kept"
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.set("k", "plain") is True
    assert r.ttl("k") == -1
    # redis-py marks setex/psetex deprecated: send the commands themselves.
    assert r.execute_command("SETEX", "s", 200, "v") is True
    assert r.ttl("s") == 200
    assert r.execute_command("PSETEX", "p", 300_000, "v") is True
    assert 299_000 < r.pttl("p") <= 300_000
    assert_error("invalid expire time in 'set' command", r.set, "k", "v", ex=0)
    assert r.get("k") == "plain"


def test_mset_mget(r):
    assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
    assert r.mget(["a", "missing", "c", "b"]) == ["1", None, "3", "2"]
    assert r.mget("a", "b") == ["1", "2"]
    assert r.msetnx({"c": "x", "d": "4"}) is False
    assert r.get("d") is None
    assert r.msetnx({"d": "4", "e": "5"}) is True
    assert r.mget("d", "e") == ["4", "5"]


def test_incr_decr(r):
    assert r.incr("n") == 1
    assert r.incr("n", 10) == 11
    assert r.decr("n") == 10
    assert r.decr("n", 3) == 7
    assert r.incrby("n", -10) == -3
    assert r.get("n") == "-3"
    r.set("big", "9223372036854775806")
    assert r.incr("big") == 9223372036854775807
    assert_error("increment or decrement would overflow", r.incr, "big")
    assert r.get("big") == "9223372036854775807"


def test_incrbyfloat(r):
    assert r.incrbyfloat("f", 10.5) == 10.5
    assert r.incrbyfloat("f", 0.1) == 10.6
    assert r.get("f") == "10.6"
    r.set("n", "5")
    assert r.incrbyfloat("n", "5.0e3") == 5005.0
    assert r.get("n") == "5005"
    assert r.incrbyfloat("n", -5005) == 0.0
    assert r.get("n") == "0"
    r.set("s", "abc")
    assert_error("value is not a valid float", r.incrbyfloat, "s", 1)


def test_incr_on_a_non_integer_is_an_error(r):
    r.set("s", "abc")
    assert_error("value is not an integer or out of range", r.incr, "s")
    assert_error("value is not an integer or out of range", r.incrby, "s", 5)
    assert_error("value is not an integer or out of range", r.decr, "s")
    r.set("f", "1.5")
    assert_error("value is not an integer or out of range", r.incr, "f")
    assert r.get("s") == "abc"
    assert r.get("f") == "1.5"


def test_append_getrange_setrange(r):
    assert r.append("s", "Hello") == 5
    assert r.append("s", " World") == 11
    assert r.get("s") == "Hello World"
    assert r.getrange("s", 0, 4) == "Hello"
    assert r.getrange("s", -5, -1) == "World"
    assert r.getrange("s", 6, 100) == "World"
    assert r.getrange("s", 100, 200) == ""
    assert r.getrange("missing", 0, -1) == ""
    assert r.setrange("s", 6, "Redis") == 11
    assert r.get("s") == "Hello Redis"
    assert r.setrange("s", 11, "!") == 12
    assert r.get("s") == "Hello Redis!"
    assert r.setrange("pad", 3, "x") == 4
    assert r.get("pad") == "\x00\x00\x00x"
    assert_error("string exceeds maximum allowed size (proto-max-bulk-len)", r.setrange, "s", 536870912, "x")


def test_getex_getdel(r):
    r.set("k", "v")
    assert r.getex("k") == "v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=50) == "v"
    assert r.ttl("k") == 50
    assert r.getex("k", px=80_000) == "v"
    assert 79_000 < r.pttl("k") <= 80_000
    assert r.getex("k", exat=4102444800) == "v"
    assert r.expiretime("k") == 4102444800
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1
    assert r.getex("missing", ex=10) is None
    assert r.getdel("k") == "v"
    assert r.exists("k") == 0
    assert r.getdel("k") is None


def test_lcs(r):
    r.mset({"a": "ohmytext", "b": "mynewtext"})
    assert r.lcs("a", "b") == "mytext"
    assert r.lcs("a", "b", len=True) == 6
    assert r.lcs("a", "missing") == ""


def test_object_encoding(r):
    r.set("int", "12345")
    r.set("short", "hello")
    r.set("long", "x" * 100)
    assert r.object("encoding", "int") == "int"
    assert r.object("encoding", "short") == "embstr"
    assert r.object("encoding", "long") == "raw"
    r.append("short", "!")
    assert r.object("encoding", "short") == "raw"
    assert r.object("encoding", "missing") is None


def test_binary_values_round_trip(protocol):
    client = connect(protocol, decode=False)
    client.flushall()
    value = bytes(range(256)) * 4
    assert client.set(b"bin\x00key\xff", value) is True
    assert client.get(b"bin\x00key\xff") == value
    assert client.strlen(b"bin\x00key\xff") == 1024
    assert client.getrange(b"bin\x00key\xff", 254, 257) == b"\xfe\xff\x00\x01"
    client.close()


# --- keys -----------------------------------------------------------------------------------------


def test_delete_exists(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.exists("a") == 1
    assert r.exists("a", "a", "missing", "b") == 3
    assert r.delete("a", "b", "missing") == 2
    assert r.exists("a", "b") == 0
    assert r.unlink("c", "missing") == 1
    assert r.delete("missing") == 0
    assert r.dbsize() == 0


def test_rename(r):
    r.set("a", "1", ex=100)
    assert r.rename("a", "b") is True
    assert r.exists("a") == 0
    assert r.get("b") == "1"
    assert r.ttl("b") == 100
    r.set("c", "3")
    assert r.renamenx("b", "c") is False
    assert r.get("c") == "3"
    assert r.renamenx("b", "d") is True
    assert r.get("d") == "1"
    assert_error("no such key", r.rename, "missing", "x")


def test_scan_iter_over_500_keys(r):
    expected = {f"key:{i:03}" for i in range(500)}
    r.mset({k: "v" for k in expected})
    r.mset({f"other:{i}": "v" for i in range(10)})
    assert set(r.scan_iter(match="key:*", count=50)) == expected
    everything = set(r.scan_iter(count=1000))
    assert len(everything) == 510
    assert everything >= expected
    cursor, batch = r.scan(0, match="nothing:*", count=1000)
    assert batch == []
    assert cursor == 0
    assert set(r.scan_iter(_type="string", match="other:*")) == {f"other:{i}" for i in range(10)}


def test_keys_pattern(r):
    r.mset({"hello": "1", "hallo": "2", "hxllo": "3", "heeello": "4", "world": "5"})
    assert sorted(r.keys("h?llo")) == ["hallo", "hello", "hxllo"]
    assert sorted(r.keys("h[ae]llo")) == ["hallo", "hello"]
    assert sorted(r.keys("h[^e]llo")) == ["hallo", "hxllo"]
    assert sorted(r.keys("h*llo")) == ["hallo", "heeello", "hello", "hxllo"]
    assert sorted(r.keys()) == ["hallo", "heeello", "hello", "hxllo", "world"]
    assert r.keys("nothing*") == []


def test_type(r):
    r.set("s", "v")
    assert r.type("s") == "string"
    assert r.type("missing") == "none"


def test_copy(r, protocol):
    r.set("src", "v", ex=100)
    assert r.copy("src", "dst") is True
    assert r.get("dst") == "v"
    assert r.ttl("dst") == 100
    r.set("src", "w")
    assert r.copy("src", "dst") is False
    assert r.get("dst") == "v"
    assert r.copy("src", "dst", replace=True) is True
    assert r.get("dst") == "w"
    assert r.ttl("dst") == -1
    assert r.copy("missing", "x") is False
    assert r.copy("src", "elsewhere", destination_db=1) is True
    db1 = connect(protocol, db=1)
    assert db1.get("elsewhere") == "w"
    assert r.exists("elsewhere") == 0
    db1.close()


def test_move_between_dbs(r, protocol):
    db2 = connect(protocol, db=2)
    r.set("k", "v", ex=100)
    assert r.move("k", 2) is True
    assert r.exists("k") == 0
    assert db2.get("k") == "v"
    assert db2.ttl("k") == 100
    r.set("k", "again")
    assert r.move("k", 2) is False
    assert r.get("k") == "again"
    assert db2.get("k") == "v"
    assert r.move("missing", 2) is False
    assert_error("source and destination objects are the same", r.move, "k", 0)
    assert_error("DB index is out of range", r.move, "k", 16)
    db2.close()


def test_select_and_flushdb(r, protocol):
    db5 = connect(protocol, db=5)
    r.set("k", "db0")
    db5.set("k", "db5")
    assert r.get("k") == "db0"
    assert db5.get("k") == "db5"
    assert db5.flushdb() is True
    assert db5.dbsize() == 0
    assert r.get("k") == "db0"
    db5.close()


def test_swapdb(r, protocol):
    db1 = connect(protocol, db=1)
    r.set("k", "from-db0")
    db1.set("k", "from-db1")
    db1.set("only1", "v")
    assert r.swapdb(0, 1) is True
    assert r.get("k") == "from-db1"
    assert r.get("only1") == "v"
    assert db1.get("k") == "from-db0"
    assert db1.exists("only1") == 0
    db1.close()


def test_randomkey_and_touch(r):
    assert r.randomkey() is None
    r.set("only", "v")
    assert r.randomkey() == "only"
    assert r.touch("only", "missing") == 1


# --- expiry ---------------------------------------------------------------------------------------


def test_expire_ttl_persist(r):
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.persist("k") is True
    assert r.persist("k") is False
    assert r.ttl("k") == -1
    assert r.pexpire("k", 50_000) is True
    assert 49_000 < r.pttl("k") <= 50_000
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    assert r.expire("missing", 10) is False
    assert r.persist("missing") is False


def test_expire_options(r):
    r.set("k", "v")
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.expire("k", 300, lt=True) is False
    assert r.expire("k", 30, lt=True) is True
    assert r.ttl("k") == 30
    assert_error("NX and XX, GT or LT options at the same time are not compatible", r.expire, "k", 10, nx=True, xx=True)


def test_expiretime(r):
    r.set("k", "v")
    assert r.expiretime("k") == -1
    assert r.pexpiretime("k") == -1
    assert r.expiretime("missing") == -2
    assert r.expireat("k", 4102444800) is True
    assert r.expiretime("k") == 4102444800
    assert r.pexpiretime("k") == 4102444800000
    assert r.pexpireat("k", 4102444800123) is True
    assert r.pexpiretime("k") == 4102444800123
    assert r.expiretime("k") == 4102444800


def test_expire_in_the_past_deletes(r):
    r.set("k", "v")
    assert r.expire("k", -1) is True
    assert r.exists("k") == 0
    r.set("k", "v")
    assert r.expireat("k", 1) is True
    assert r.get("k") is None


def test_key_with_px_50_is_gone_after_a_short_sleep(r):
    assert r.set("short", "v", px=50) is True
    assert r.set("long", "v", px=60_000) is True
    assert r.get("short") == "v"
    time.sleep(0.2)
    assert r.get("short") is None
    assert r.exists("short") == 0
    assert r.ttl("short") == -2
    assert r.get("long") == "v"
    assert r.keys("*") == ["long"]


# --- pipelines ------------------------------------------------------------------------------------


def test_pipeline_of_200_commands_answers_in_order(r):
    pipe = r.pipeline(transaction=False)
    expected = []
    for i in range(50):
        pipe.set(f"p:{i}", i)
        pipe.incrby(f"p:{i}", i)
        pipe.get(f"p:{i}")
        pipe.exists(f"p:{i}", f"missing:{i}")
        expected += [True, 2 * i, str(2 * i), 1]
    results = pipe.execute()
    assert len(results) == 200
    assert results == expected
    assert r.dbsize() == 50


def test_large_values_alone_and_pipelined(r):
    big = "x" * (1 << 20)
    assert r.set("big", big) is True
    assert r.get("big") == big
    assert r.append("big", "y") == (1 << 20) + 1
    pipe = r.pipeline(transaction=False)
    values = [chr(ord("a") + i) * 100_000 for i in range(20)]
    for i, value in enumerate(values):
        pipe.set(f"v:{i}", value)
    for i in range(20):
        pipe.get(f"v:{i}")
    assert pipe.execute() == [True] * 20 + values


def test_pipeline_with_an_error_in_the_middle(r):
    pipe = r.pipeline(transaction=False)
    pipe.set("s", "abc")
    pipe.incr("s")
    pipe.append("s", "d")
    pipe.get("s")
    results = pipe.execute(raise_on_error=False)
    assert results[0] is True
    assert isinstance(results[1], ResponseError)
    assert "value is not an integer or out of range" in str(results[1])
    assert results[2:] == [4, "abcd"]


# --- RESP3 ----------------------------------------------------------------------------------------


def read_raw(client, *args):
    """Sends one command on a pooled connection and returns the reply as the parser read it, before
    any redis-py response callback reshapes it (so a RESP3 map is a dict, a RESP2 array a list)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


def test_resp3_hello_reply():
    client = connect(3)
    hello = client.execute_command("HELLO")
    assert set(hello) == {"server", "version", "proto", "id", "mode", "role", "modules"}
    assert hello["server"] == "redis"
    assert re.fullmatch(r"7\.0\.\d+", hello["version"])
    assert hello["proto"] == 3
    assert hello["id"] == client.client_id()
    assert hello["mode"] == "standalone"
    assert hello["role"] == "master"
    assert hello["modules"] == []
    assert client.client_info()["resp"] == "3"
    client.close()


def test_resp2_and_resp3_connections():
    resp2 = connect(2)
    resp3 = connect(3)
    assert resp2.client_info()["resp"] == "2"
    assert resp3.client_info()["resp"] == "3"
    # CONFIG GET: an array of name/value pairs in RESP2, a map in RESP3.
    assert read_raw(resp2, "CONFIG", "GET", "maxmemory") == ["maxmemory", "0"]
    assert read_raw(resp3, "CONFIG", "GET", "maxmemory") == {"maxmemory": "0"}
    assert read_raw(resp3, "GET", "missing") is None
    assert read_raw(resp3, "MGET", "missing", "missing") == [None, None]
    # HELLO on a RESP3 connection answers a map; redis-py parses both the same.
    assert read_raw(resp3, "HELLO", "3")["proto"] == 3
    assert resp2.config_get("maxmemory") == resp3.config_get("maxmemory") == {"maxmemory": "0"}
    resp2.close()
    resp3.close()


def test_hello_with_an_unsupported_version_is_an_error():
    client = connect(3)
    assert_error("NOPROTO unsupported protocol version", client.execute_command, "HELLO", "4")
    assert client.ping() is True
    client.close()


# --- connection -----------------------------------------------------------------------------------


def test_client_setname_getname_id(r):
    assert r.client_getname() is None
    assert r.client_setname("keel-py") is True
    assert r.client_getname() == "keel-py"
    client_id = r.client_id()
    assert isinstance(client_id, int) and client_id > 0
    assert r.client_info()["id"] == client_id
    assert r.client_info()["name"] == "keel-py"
    mine = [c for c in r.client_list() if c["id"] == str(client_id)]
    assert len(mine) == 1
    assert mine[0]["name"] == "keel-py"
    assert_error("Client names cannot contain spaces, newlines or special characters.", r.client_setname, "a b")
    assert r.client_getname() == "keel-py"


def test_client_name_given_at_connect(protocol):
    client = connect(protocol, client_name="named-at-connect")
    assert client.client_getname() == "named-at-connect"
    other = connect(protocol)
    assert other.client_id() != client.client_id()
    client.close()
    other.close()


def test_ping_and_echo(r):
    assert r.ping() is True
    assert r.echo("hello") == "hello"
    assert read_raw(r, "PING", "message") == "message"


def test_error_messages(r):
    assert_error("wrong number of arguments for 'get' command", r.execute_command, "GET")
    assert_error(
        "unknown command 'nosuchcmd', with args beginning with: 'a' 'b' ",
        r.execute_command,
        "nosuchcmd",
        "a",
        "b",
    )
    assert r.ping() is True


# --- server ---------------------------------------------------------------------------------------


def test_info_server_section(r):
    info = r.info("server")
    assert re.fullmatch(r"7\.0\.\d+", info["redis_version"])
    assert info["redis_mode"] == "standalone"
    assert info["tcp_port"] == keel_port()
    assert info["arch_bits"] == 64
    assert isinstance(info["process_id"], int) and info["process_id"] > 0
    assert isinstance(info["uptime_in_seconds"], int) and info["uptime_in_seconds"] >= 0
    assert re.fullmatch(r"[0-9a-f]{40}", info["run_id"])
    assert "connected_clients" not in info
    everything = r.info()
    assert everything["redis_version"] == info["redis_version"]
    assert everything["connected_clients"] >= 1


def test_info_keyspace_section(r, protocol):
    assert r.info("keyspace") == {}
    r.set("a", "1")
    r.set("b", "2", ex=1000)
    db3 = connect(protocol, db=3)
    db3.set("c", "3")
    keyspace = r.info("keyspace")
    assert set(keyspace) == {"db0", "db3"}
    assert keyspace["db0"]["keys"] == 2
    assert keyspace["db0"]["expires"] == 1
    assert 0 <= keyspace["db0"]["avg_ttl"] <= 1_000_000
    assert keyspace["db3"] == {"keys": 1, "expires": 0, "avg_ttl": 0}
    db3.close()


def test_time(r):
    seconds, micros = r.time()
    assert abs(seconds + micros / 1e6 - time.time()) < 5
    assert 0 <= micros < 1_000_000


def test_config_get(r):
    assert r.config_get("maxmemory") == {"maxmemory": "0"}
    assert r.config_get("maxmemory*") == {
        "maxmemory": "0",
        "maxmemory-policy": "noeviction",
        "maxmemory-clients": "0",
        "maxmemory-samples": "5",
        "maxmemory-eviction-tenacity": "10",
    }
    assert r.config_get("no-such-parameter") == {}


def test_config_get_port_is_the_listening_port(r):
    assert r.config_get("port") == {"port": str(keel_port())}
    assert r.config_get("port")["port"] == str(r.info("server")["tcp_port"])


def test_config_set(r):
    before = r.config_get("hz")["hz"]
    try:
        assert r.config_set("hz", 20) is True
        assert r.config_get("hz") == {"hz": "20"}
        assert r.config_set("maxmemory", "100mb") is True
        assert r.config_get("maxmemory") == {"maxmemory": "104857600"}
        assert r.execute_command("CONFIG", "SET", "hz", "15", "timeout", "100") == "OK"
        assert r.config_get("hz") == {"hz": "15"}
        assert r.config_get("timeout") == {"timeout": "100"}
        assert_error("Unknown option or number of arguments for CONFIG SET - 'nosuch'", r.config_set, "nosuch", "1")
        assert_error(
            "CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer",
            r.config_set,
            "hz",
            "abc",
        )
        assert r.config_get("hz") == {"hz": "15"}
    finally:
        r.execute_command("CONFIG", "SET", "hz", before, "maxmemory", "0", "timeout", "0")
    assert r.config_get("hz") == {"hz": before}


# --- Transactions and data types ---------------------------------------------------------------------


def test_pipeline_with_transaction(r):
    pipe = r.pipeline(transaction=True)
    pipe.set("tx:a", 1).incr("tx:a").lpush("tx:l", "x", "y").hset("tx:h", "f", "v").zadd("tx:z", {"m": 1.5})
    assert pipe.execute() == [True, 2, 2, 1, 1]
    assert r.lrange("tx:l", 0, -1) == ["y", "x"]
    assert r.hgetall("tx:h") == {"f": "v"}
    assert r.zscore("tx:z", "m") == 1.5


def test_watch_aborts_on_a_concurrent_write(r, protocol):
    other = connect(protocol)
    try:
        r.set("tx:w", "1")
        with r.pipeline(transaction=True) as pipe:
            pipe.watch("tx:w")
            other.set("tx:w", "2")
            pipe.multi()
            pipe.set("tx:w", "3")
            with pytest.raises(redis.exceptions.WatchError):
                pipe.execute()
        assert r.get("tx:w") == "2"
    finally:
        other.close()


def test_runtime_error_inside_a_transaction_does_not_abort(r):
    r.set("tx:s", "text")
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx:s").set("tx:t", "ok")
    results = pipe.execute(raise_on_error=False)
    assert isinstance(results[0], ResponseError)
    assert str(results[0]) == "value is not an integer or out of range"
    assert results[1] is True
    assert r.get("tx:t") == "ok"


def test_blocking_pop_is_served_by_a_push(r, protocol):
    other = connect(protocol)
    try:
        assert r.blpop(["tx:q"], timeout=0.05) is None
        other.rpush("tx:q", "job")
        assert r.blpop(["tx:q"], timeout=1) in (("tx:q", "job"), ["tx:q", "job"])
    finally:
        other.close()
