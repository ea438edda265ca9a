/**
 * The server's own name and the IRC services' names cannot be taken, on any
 * door: IRC clients send `IDENTIFY <password>` to NickServ on connecting.
 */
import assert from "node:assert/strict";
import { ircConnect, ircLogin, startIrcServer } from "./irc_helpers.ts";

Deno.test("NickServ, ChanServ and teaparty are refused as nicks over telnet and IRC, and /msg NickServ finds no one", async () => {
  await using chat = await startIrcServer();
  const tel = await chat.connect();
  await tel.waitFor(/Log in with/);
  tel.send("login NickServ");
  await tel.waitFor(
    `*** Cannot log in as "NickServ": a nick may not be (or look like) NickServ: it is an IRC service's name, ` +
      "and this server has none.",
  );
  tel.send("login teaparty");
  await tel.waitFor(
    `*** Cannot log in as "teaparty": a nick may not be (or look like) teaparty: it is the server's own name.`,
  );
  const irc = await ircConnect(chat);
  irc.send("NICK ChanServ");
  irc.send("USER u 0 * :u");
  assert.match(
    await irc.waitFor(/ 432 /),
    /^:teaparty 432 \* ChanServ :Erroneous nickname: a nick may not be \(or look like\) ChanServ/,
  );
  const ann = await ircLogin(chat, "ann");
  ann.send("PRIVMSG NickServ :IDENTIFY secret");
  assert.match(await ann.waitFor(/ 401 | 432 /), / (401|432) ann NickServ /);
});
