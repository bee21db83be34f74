"""The Telegram front end: `bot.telegram.app.main(settings)` runs the bot (see docs/telegram.md)."""
