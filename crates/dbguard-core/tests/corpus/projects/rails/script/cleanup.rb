# Run with: bin/rails runner script/cleanup.rb
ActiveRecord::Base.connection.execute("TRUNCATE events RESTART IDENTITY")
