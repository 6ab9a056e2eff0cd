# Start from a clean slate on every seed.
Comment.destroy_all
User.delete_all

User.create!(email: "admin@example.com")
