// Package testkit holds what the test packages of roomd share: a client of the admin REST
// API (Client) and an App backend that records the callbacks it receives (Receiver). It is
// a normal package so that tests of several packages can import it, but only tests do.
package testkit
