// Package nonint holds the non-interference property suite (its tests):
// generated users, data and privacy settings, every surface a non-owner or
// a language model observes, rendered for every audience before and after
// a change to data that audience may not see, compared byte for byte; and
// monotonicity and fail-closed checks on damaged settings rows. It runs on
// SQLite and, with TWINME_TEST_DATABASE_URL, on PostgreSQL.
package nonint
