/**
 * Rooms: the main room, look, who, /join, /leave, /rooms and rooms that
 * disappear when they empty.
 */
import assert from "node:assert/strict";
import { startServer } from "./helpers.ts";

Deno.test("users arrive in the room named by the room option", async () => {
  await using chat = await startServer({ room: "lobby" });
  const alice = await chat.login("alice");
  alice.send("look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In lobby (1): alice");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: lobby (1)");
});

Deno.test("look and /look list who is in this room", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  await chat.login("bob");
  const carol = await chat.login("carol");
  carol.send("/join kitchen");
  await carol.waitFor("*** carol has entered the room.");
  alice.send("look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In main (2): alice, bob");
  carol.send("/look");
  assert.equal(await carol.waitFor(/^\*\*\* In /), "*** In kitchen (1): carol");
});

Deno.test("who and /who list everyone logged in anywhere, with their rooms", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  await chat.login("bob");
  const carol = await chat.login("carol");
  carol.send("/join kitchen");
  await carol.waitFor("*** carol has entered the room.");
  const guest = await chat.connect(); // not logged in: not listed
  await guest.waitFor(/Log in with/);
  for (const form of ["who", "/who"]) {
    alice.send(form);
    await alice.waitFor("*** 3 logged in:");
    alice.send("/look");
    const lines = (await alice.until(/^\*\*\* In /)).slice(0, -1);
    assert.deepEqual(lines.sort(), ["***   kitchen (1): carol", "***   main (2): alice, bob"]);
  }
});

Deno.test("/join announces the leave in the old room and the entry in the new one", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  carol.send("/join kitchen");
  await carol.waitFor("*** carol has entered the room.");
  await alice.waitFor("*** carol has left the room.");
  await bob.waitFor("*** carol has left the room.");
  bob.send("/join kitchen");
  await carol.waitFor("*** bob has entered the room.");
  await bob.waitFor("*** bob has entered the room.");
  await alice.waitFor("*** bob has left the room.");
  bob.send("/look");
  assert.equal(await bob.waitFor(/^\*\*\* In /), "*** In kitchen (2): bob, carol");
});

Deno.test("/join creates a room and finds it again case-insensitively, with or without #", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/join Kitchen");
  await alice.waitFor("*** alice has entered the room.");
  bob.send("/join #kitchen");
  await alice.waitFor("*** bob has entered the room.");
  bob.send("/rooms");
  assert.equal(await bob.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (0), Kitchen (2)");
  bob.send("/join KITCHEN");
  assert.match(await bob.waitFor(/^\*\*\* You are already/), /already in Kitchen/);
});

Deno.test("/join takes room names in any script", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("/join 茶室");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In 茶室 (1): alice");
});

Deno.test("/join refuses a room name mixing scripts, such as main with a Cyrillic а, naming both", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("/join m\u0430in");
  assert.equal(
    await alice.waitFor(/^\*\*\* /),
    '*** Cannot join "m\u0430in": a room name may not mix scripts: "m" (U+006D) is Latin, "\u0430" (U+0430) Cyrillic.',
  );
  alice.send("/join Москва");
  await alice.waitFor("*** alice has entered the room.");
});

Deno.test("/join refuses a new room that looks like one that exists (all Cyrillic, or 1 for l), until it empties", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/join copex");
  await alice.waitFor("*** alice has entered the room.");
  bob.send("/join \u0441\u043e\u0440\u0435\u0445"); // сорех: every letter Cyrillic
  assert.equal(
    await bob.waitFor(/^\*\*\* Cannot/),
    '*** Cannot join "\u0441\u043e\u0440\u0435\u0445": it looks like the room copex.',
  );
  bob.send("/join rooml");
  await bob.waitFor("*** bob has entered the room.");
  alice.send("/join room1");
  assert.equal(await alice.waitFor(/^\*\*\* Cannot/), '*** Cannot join "room1": it looks like the room rooml.');
  alice.send("/join ROOML"); // the same room, in capitals
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/join \u0441\u043e\u0440\u0435\u0445"); // copex emptied when alice left it
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In \u0441\u043e\u0440\u0435\u0445 (1): alice");
});

Deno.test("/join refuses bad room names and a missing name, and the user stays put", async () => {
  await using chat = await startServer({ rate: 0 });
  const alice = await chat.login("alice");
  for (const name of ["a/b", "***", "#", "x".repeat(33), "@room"]) {
    alice.send(`/join ${name}`);
    assert.match(await alice.waitFor(/^\*\*\* /), /^\*\*\* Cannot join/, name);
  }
  for (const name of ["..", ".", "_-.", "#..."]) {
    alice.send(`/join ${name}`);
    assert.equal(
      await alice.waitFor(/^\*\*\* /),
      `*** Cannot join "${name}": a room name needs a letter or a digit (not only _ - .).`,
    );
  }
  alice.send("/join");
  assert.match(await alice.waitFor(/^\*\*\* /), /room/);
  alice.send("/look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In main (1): alice");
});

Deno.test("/rooms lists the rooms with how many are in each", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  bob.send("/join kitchen");
  await bob.waitFor("*** bob has entered the room.");
  carol.send("/join kitchen");
  await bob.waitFor("*** carol has entered the room.");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (1), kitchen (2)");
});

Deno.test("/leave returns to the main room with announcements in both", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  const carol = await chat.login("carol");
  bob.send("/join kitchen");
  await bob.waitFor("*** bob has entered the room.");
  carol.send("/join kitchen");
  await bob.waitFor("*** carol has entered the room.");
  carol.send("/leave");
  await bob.waitFor("*** carol has left the room.");
  await alice.waitFor("*** carol has entered the room.");
  await carol.waitFor("*** carol has entered the room.");
  carol.send("look");
  assert.equal(await carol.waitFor(/^\*\*\* In /), "*** In main (2): alice, carol");
  carol.send("/leave");
  assert.match(await carol.waitFor(/^\*\*\* /), /already in main/);
});

Deno.test("a room other than main disappears when its last user leaves", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/join kitchen");
  await alice.waitFor("*** alice has entered the room.");
  bob.send("/join garden");
  await bob.waitFor("*** bob has entered the room.");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (0), kitchen (1), garden (1)");
  alice.send("/leave");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (1), garden (1)");
  bob.send("logout"); // leaving by logging out empties the garden too
  await bob.closed();
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (1)");
});

Deno.test("the main room stays when it is empty", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  alice.send("/join kitchen");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (0), kitchen (1)");
  alice.send("/join main");
  await alice.waitFor("*** alice has entered the room.");
  alice.send("/rooms");
  assert.equal(await alice.waitFor(/^\*\*\* Rooms: /), "*** Rooms: main (1)");
});

Deno.test("a user who drops out of a room is announced there", async () => {
  await using chat = await startServer();
  const alice = await chat.login("alice");
  const bob = await chat.login("bob");
  alice.send("/join kitchen");
  await alice.waitFor("*** alice has entered the room.");
  bob.send("/join kitchen");
  await alice.waitFor("*** bob has entered the room.");
  bob.close();
  await alice.waitFor("*** bob has left the room.");
  alice.send("/look");
  assert.equal(await alice.waitFor(/^\*\*\* In /), "*** In kitchen (1): alice");
});
