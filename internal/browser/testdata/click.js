document.getElementById("go").addEventListener("click", () => {
  document.getElementById("out").textContent = "clicked";
  console.log("clicked", 1);
});
