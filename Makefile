# Thin aliases for the npm scripts; the scripts hold the logic.
.PHONY: up down validate test doctor

up:
	npm run up

down:
	npm run down

validate:
	npm run validate

test:
	npm test

doctor:
	npm run doctor
